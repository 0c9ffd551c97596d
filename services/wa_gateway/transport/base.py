"""The transport interface: connect/stop, send text/reaction/typing, and a stream of events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class TransportEventType(StrEnum):
    MESSAGE = "message"
    REACTION = "reaction"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    REPLACED = "replaced"
    LOGGED_OUT = "logged_out"
    QR = "qr"
    QR_EXPIRED = "qr_expired"
    PAIRED = "paired"
    TEMPORARY_BAN = "temporary_ban"
    OUTDATED = "outdated"
    CONNECT_FAILED = "connect_failed"


@dataclass(frozen=True, slots=True)
class WhatsAppMessage:
    """A message as the webhook needs it; ``chat`` and ``sender`` are E.164 digits."""

    chat: str
    sender: str
    message_id: str
    text: str
    timestamp_ms: int
    push_name: str | None = None
    kind: str = "text"
    from_me: bool = False
    is_group: bool = False


@dataclass(frozen=True, slots=True)
class IncomingReaction:
    sender: str
    message_id: str
    emoji: str
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class TransportEvent:
    type: TransportEventType
    message: WhatsAppMessage | None = None
    reaction: IncomingReaction | None = None
    reason: str | None = None
    qr: str | None = None
    phone_number: str | None = None
    expires_at: int | None = None


@dataclass(frozen=True, slots=True)
class SentMessage:
    message_id: str
    timestamp: int
    """Unix seconds, as WhatsApp reports it for a send."""


EventHandler = Callable[[TransportEvent], Awaitable[None]]


class Transport(Protocol):
    name: str
    reconnects_after_disconnect: bool
    """True when the library itself reconnects after an unexpected disconnect (whatsmeow does)."""

    def set_event_handler(self, handler: EventHandler) -> None:
        """One handler receives every event; it must return only after the event is durable."""

    async def connect(self) -> None:
        """Open the session. Raises TransientError when the network can't be reached."""

    async def stop(self) -> None:
        """Close the session; never raises, never hangs past a few seconds."""

    async def send_text(self, phone: str, text: str) -> SentMessage: ...

    async def send_reaction(self, phone: str, message_id: str, emoji: str) -> SentMessage: ...

    async def send_typing(self, phone: str, composing: bool) -> None: ...

    @property
    def own_phone(self) -> str | None:
        """The salon's own number once paired, else None."""
