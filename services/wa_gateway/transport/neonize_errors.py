"""neonize's errors are Go error strings (docs/neonize.md §7); these are the ones a caller can act on."""

from __future__ import annotations

# Must run before anything imports neonize (see the module).
import services.wa_gateway.transport.neonize_import  # noqa: F401

# isort: split

import contextlib
from collections.abc import Iterator

from neonize.exc import NeonizeError

from shared.errors import TransientError, WhatsAppNotConnected, WhatsAppRefused

_TRANSIENT_ERRORS = (
    "timed out",
    "timeout",
    "websocket disconnected",
    "context canceled",
    "context deadline exceeded",
)
_NOT_CONNECTED_ERRORS = (
    "websocket not connected",
    "client is nil",
    "doesn't contain a device jid",
    "not logged in",
)


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """Timeouts and a missing socket may pass on retry (TransientError); anything else is
    WhatsApp refusing (WhatsAppRefused, a 502 to the caller)."""
    try:
        yield
    except NeonizeError as error:
        text = str(error).lower()
        if any(marker in text for marker in _NOT_CONNECTED_ERRORS):
            raise WhatsAppNotConnected(f"WhatsApp is not connected: {error}") from error
        if any(marker in text for marker in _TRANSIENT_ERRORS):
            raise TransientError(f"WhatsApp did not answer in time: {error}") from error
        raise WhatsAppRefused(f"WhatsApp refused: {error}") from error
