"""One exception tree for the whole project.

    AiAdminError
     ├── TransientError          retry later: the same call may succeed
     │    ├── UpstreamUnavailable    a peer service (api, gateway, LLM) did not answer
     │    ├── WhatsAppNotConnected   the gateway has no live session right now
     │    ├── StoreUnavailable       Redis or the journal could not be reached
     │    └── BackendUnavailable     the booking backend (YClients, the salon DB) did not answer
     └── PermanentError          retrying the same call can never succeed
          ├── InvalidInput           the caller sent something malformed
          │    ├── UnreadableBody     not JSON at all (400 rather than 422)
          │    └── InvalidPhone
          ├── NotAuthenticated       a missing or wrong signature or API key
          ├── UnknownCompany         this deployment does not serve that company
          ├── ConfigurationError     a setting is missing or wrong
          └── BookingRefused         the booking backend answered and said no
               ├── SlotTaken          the time is taken or outside working hours (YClients 433)
               └── BookingNotFound    no such booking, or not this client's

The worker's retry decision is a single ``except TransientError``.
"""

from __future__ import annotations


class AiAdminError(Exception):
    """Base of every error this project raises on purpose."""


class TransientError(AiAdminError):
    """The operation may succeed if repeated later; callers retry with backoff."""


class UpstreamUnavailable(TransientError):
    """A peer service timed out, refused the connection or answered 5xx."""


class WhatsAppNotConnected(TransientError):
    """The gateway owns no connected session; sending must wait, never reconnect."""


class StoreUnavailable(TransientError):
    """Redis or the local journal failed; the message was not stored."""


class PermanentError(AiAdminError):
    """Repeating the operation cannot help; it is logged and dropped or dead-lettered."""


class InvalidInput(PermanentError):
    """The request is malformed; the message names the field and the problem."""


class UnreadableBody(InvalidInput):
    """The body can't be parsed as JSON; nothing in it can be named."""


class InvalidPhone(InvalidInput):
    """A phone number that cannot be a WhatsApp user's number."""


class NotAuthenticated(PermanentError):
    """The caller did not prove who it is; answered with 401 and nothing is done."""


class UnknownCompany(PermanentError):
    """A company id that is well formed but not served by this deployment."""


class ConfigurationError(PermanentError):
    """A setting is missing, malformed or unsafe for the environment."""


class BackendUnavailable(TransientError):
    """The booking backend timed out, refused the connection, rate-limited us past our patience or answered 5xx."""


class BookingRefused(PermanentError):
    """The booking backend understood the request and refused it; ``code`` is its error code when it gave one."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class SlotTaken(BookingRefused):
    """The chosen time is no longer free (someone else took it) or is outside working hours."""


class BookingNotFound(BookingRefused):
    """The booking does not exist, was deleted, or belongs to another client."""
