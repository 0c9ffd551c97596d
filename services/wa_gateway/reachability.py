"""Whether WhatsApp itself is out of reach, in words an operator can act on.

When the connection never gets as far as a QR code (no network, a proxy refusing, a firewall dropping
web.whatsapp.com), "scan the QR" or "POST /reconnect" can't help: pairing needs WhatsApp first. The
transport reports each failed dial as the session's last error (``WhatsApp connect failed: ...`` with
Go's dial error); this module recognises those and says what to check.
"""

from __future__ import annotations

from services.wa_gateway.state import SessionState
from shared.wire import SessionStatus

NETWORK_FAILURES = (
    "dial tcp",
    "websocket dial",
    "proxyconnect",
    "no such host",
    "i/o timeout",
    "connection refused",
    "connection reset",
    "network is unreachable",
    "no route to host",
    "tls handshake",
)
"""Pieces of Go's net errors, as whatsmeow reports a dial to WhatsApp that did not get through."""

WHAT_TO_CHECK = (
    "Check this machine's network, any proxy it must use (HTTPS_PROXY) and the firewall: outbound HTTPS"
    " and WebSocket connections (port 443) to web.whatsapp.com and g.whatsapp.net must be allowed."
)


def unreachable_reason(state: SessionState) -> str | None:
    """The operator's message when the latest attempts could not reach WhatsApp at all, else None."""
    if state.connected or state.qr or state.status not in (SessionStatus.DISCONNECTED, SessionStatus.CONNECTING):
        return None
    last_error = state.metrics.last_error or ""
    if not any(piece in last_error.lower() for piece in NETWORK_FAILURES):
        return None
    return (
        "WhatsApp is unreachable from this machine, so there is no QR code or pairing code to give yet"
        f" (last attempt: {last_error}). {WHAT_TO_CHECK} The gateway keeps retrying with backoff;"
        " GET /health shows the latest attempt, and pairing works as soon as one gets through."
    )
