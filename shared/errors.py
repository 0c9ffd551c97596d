"""One exception tree for the whole project, with the HTTP status each error answers with.

    AiAdminError                              HTTP
     ├── TransientError          retry later: the same call may succeed                 503
     │    ├── UpstreamUnavailable    a peer service (api, gateway, LLM) did not answer   503
     │    ├── WhatsAppNotConnected   the gateway has no live session right now           503
     │    ├── StoreUnavailable       Redis or the journal could not be reached           503
     │    └── BackendUnavailable     the booking backend did not answer                  503
     └── PermanentError          retrying the same call can never succeed               500
          ├── InvalidInput           the caller sent something malformed                 422 (gateway: 400)
          │    ├── UnreadableBody     not JSON at all                                    400
          │    └── InvalidPhone                                                          422 (gateway: 400)
          ├── NotAuthenticated       a missing or wrong signature or API key             401
          ├── UnknownCompany         this deployment does not serve that company         404
          ├── UnknownConversation    no chat with that phone in the transcripts          404
          ├── UnknownVisit           a calendar link's visit is gone or cancelled        404
          ├── LinkExpired            a signed link past its expiry                       410
          ├── Unsupported            this deployment can't do that (e.g. pairing by code
          │                          on the simulator)                                   409
          ├── UpstreamRejected       a peer service refused the request (its 4xx)        the peer's 4xx
          ├── WhatsAppRefused        WhatsApp answered and said no                       502
          ├── ConfigurationError     a setting is missing or wrong                       500
          └── BookingRefused         the booking backend answered and said no            502
               ├── SlotTaken          the time is taken or outside working hours (YClients 433)
               └── BookingNotFound    no such booking, or not this client's

Retrying is a single ``except PermanentError``: a permanent error fails at once (the worker sends
its job to the failed registry); anything else, a TransientError or an error nobody foresaw, is
retried with backoff, because losing a client's message to an unforeseen blip is worse than one
more attempt. ``shared.http`` answers every error with ``http_status`` from this tree; routes
never map errors themselves.
"""

from __future__ import annotations

from typing import ClassVar


class AiAdminError(Exception):
    """Base of every error this project raises on purpose."""

    http_status: ClassVar[int] = 500


class TransientError(AiAdminError):
    """The operation may succeed if repeated later; callers retry with backoff."""

    http_status: ClassVar[int] = 503


class UpstreamUnavailable(TransientError):
    """A peer service timed out, refused the connection or answered 5xx."""


class WhatsAppNotConnected(TransientError):
    """The gateway owns no connected session; sending must wait, never reconnect."""


class StoreUnavailable(TransientError):
    """Redis or the local journal failed; the message was not stored."""


class BackendUnavailable(TransientError):
    """The booking backend timed out, refused the connection, rate-limited us past our patience or answered 5xx."""


class PermanentError(AiAdminError):
    """Repeating the operation cannot help; it is logged and dropped or dead-lettered."""


class InvalidInput(PermanentError):
    """The request is malformed; the message names the field and the problem."""

    http_status: ClassVar[int] = 422


class UnreadableBody(InvalidInput):
    """The body can't be parsed as JSON; nothing in it can be named."""

    http_status: ClassVar[int] = 400


class InvalidPhone(InvalidInput):
    """A phone number that cannot be a WhatsApp user's number."""


class NotAuthenticated(PermanentError):
    """The caller did not prove who it is; answered with 401 and nothing is done."""

    http_status: ClassVar[int] = 401


class UnknownCompany(PermanentError):
    """A company id that is well formed but not served by this deployment."""

    http_status: ClassVar[int] = 404


class UnknownConversation(PermanentError):
    """No chat with that phone has been stored (never written, or deleted after its retention)."""

    http_status: ClassVar[int] = 404


class UnknownVisit(PermanentError):
    """The visit a calendar link names is gone from the backend or no longer going to happen."""

    http_status: ClassVar[int] = 404


class LinkExpired(PermanentError):
    """A signed link (the calendar's) whose time is up: a genuine one, so not a 401."""

    http_status: ClassVar[int] = 410


class Unsupported(PermanentError):
    """The request is valid but this deployment has no way to do it (a transport without that feature)."""

    http_status: ClassVar[int] = 409


class UpstreamRejected(PermanentError):
    """A peer service understood the request and refused it with a 4xx, which is passed on as is."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class WhatsAppRefused(PermanentError):
    """WhatsApp (or the library speaking to it) answered and refused a send, a reaction or a pairing."""

    http_status: ClassVar[int] = 502


class ConfigurationError(PermanentError):
    """A setting is missing, malformed or unsafe for the environment."""


class BookingRefused(PermanentError):
    """The booking backend understood the request and refused it; ``code`` is its error code when it gave one."""

    http_status: ClassVar[int] = 502

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class SlotTaken(BookingRefused):
    """The chosen time is no longer free (someone else took it) or is outside working hours."""


class BookingNotFound(BookingRefused):
    """The booking does not exist, was deleted, or belongs to another client."""


def http_status_of(error: AiAdminError) -> int:
    """The status an HTTP answer carries for ``error``: the tree's, or the peer's own 4xx."""
    if isinstance(error, UpstreamRejected):
        return error.status
    return error.http_status
