"""What the gateway does for each connection event: the whole policy, one row per event.

The original's lesson: two owners of one session cause 440 (connection replaced), and
reconnecting on 440 turns it into a storm. So a replaced or logged-out session is stopped
and stays stopped until an operator acts; only transient failures are retried, with backoff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from services.wa_gateway.transport.base import TransportEventType
from shared.wire import SessionStatus


class Action(Enum):
    NONE = "none"
    RECONNECT = "reconnect"
    """Back off and connect again; skipped when the library reconnects by itself."""
    STOP = "stop"
    """Stop the client and never reconnect until an operator acts."""


@dataclass(frozen=True, slots=True)
class Rule:
    status: SessionStatus
    connected: bool
    action: Action
    level: str
    log: str
    publish: str | None
    error: bool = False
    """Counted in the health ``errors``: the connection failed or was taken away, not a step of pairing."""


CONNECTION_POLICY: Mapping[TransportEventType, Rule] = {
    TransportEventType.CONNECTED: Rule(
        SessionStatus.CONNECTED, True, Action.NONE, "info", "WhatsApp connected", "connected"
    ),
    TransportEventType.PAIRED: Rule(
        SessionStatus.PAIRED, False, Action.NONE, "info", "WhatsApp device paired; waiting for the connection", "paired"
    ),
    TransportEventType.QR_EXPIRED: Rule(
        SessionStatus.QR_EXPIRED,
        False,
        Action.NONE,
        "warning",
        "QR code expired without a scan; not generating another. POST /reconnect or /pair, or restart, to pair",
        "qr_expired",
    ),
    TransportEventType.DISCONNECTED: Rule(
        SessionStatus.DISCONNECTED, False, Action.RECONNECT, "warning", "WhatsApp disconnected", None, error=True
    ),
    TransportEventType.CONNECT_FAILED: Rule(
        SessionStatus.DISCONNECTED, False, Action.RECONNECT, "warning", "WhatsApp connection failed", None, error=True
    ),
    TransportEventType.REPLACED: Rule(
        SessionStatus.REPLACED,
        False,
        Action.STOP,
        "error",
        "Connection replaced (440): another client opened this WhatsApp session; not reconnecting."
        " Find the other owner, then POST /reconnect or restart wa-gateway",
        "connection_replaced",
        error=True,
    ),
    TransportEventType.LOGGED_OUT: Rule(
        SessionStatus.LOGGED_OUT,
        False,
        Action.STOP,
        "error",
        "WhatsApp logged out: the device was unlinked and its session store is gone; pair again",
        "logout",
        error=True,
    ),
    TransportEventType.TEMPORARY_BAN: Rule(
        SessionStatus.BANNED,
        False,
        Action.STOP,
        "error",
        "WhatsApp temporarily banned this number",
        "banned",
        error=True,
    ),
    TransportEventType.OUTDATED: Rule(
        SessionStatus.OUTDATED,
        False,
        Action.STOP,
        "error",
        "WhatsApp rejected the client as outdated (405): upgrade the neonize version",
        "outdated",
        error=True,
    ),
}
