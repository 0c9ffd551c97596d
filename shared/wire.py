"""The wire contract: every payload that crosses a process boundary, and every path, defined once.

HTTP between the services, Redis between the api and the worker, the lease between the gateway and
the api: each travels as one of these models. Field names are the original's (camelCase on the
wire) so an operator's old tooling still reads them. Unknown fields are rejected: a typo in a
producer fails loudly instead of silently losing data.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field

from shared.errors import UnknownCompany
from shared.text import first_control_character

# --- paths ---------------------------------------------------------------------------------------

WEBHOOK_PATH = "/webhook/whatsapp/batched"
"""The api's webhook: the gateway's batches, and the original's single-message form."""
REACTION_WEBHOOK_PATH = "/webhook/whatsapp/reaction"
GATEWAY_HEALTH_PATH = "/health"
GATEWAY_SEND_PATH = "/send"
GATEWAY_REACTION_PATH = "/reaction"
GATEWAY_TYPING_PATH = "/typing"
GATEWAY_RECONNECT_PATH = "/reconnect"
SESSION_SEND_PATH = "/api/whatsapp/sessions/{companyId}/send"
"""The api's send proxy: the worker's only way to WhatsApp."""
SESSION_REACTION_PATH = "/api/whatsapp/sessions/{companyId}/reaction"
ORIGINAL_REACTION_PATH = "/api/whatsapp/reaction"
BOOKINGS_PATH = "/api/companies/{companyId}/bookings"
CONVERSATIONS_PATH = "/api/conversations"
CONVERSATION_PATH = "/api/conversations/{phone}"
TAKEOVER_PATH = "/api/conversations/{phone}/takeover"
RELEASE_PATH = "/api/conversations/{phone}/release"
YCLIENTS_WEBHOOK_PATH = "/webhook/yclients"
"""YClients' record webhooks (``hooks_settings``), keyed by ``?key=YCLIENTS_WEBHOOK_KEY``."""
CALENDAR_PATH = "/api/calendar/{token}.ics"
"""A visit as an ``.ics``, behind a signed, expiring token instead of the api key (clients open it)."""


def session_send_path(company_id: str) -> str:
    return SESSION_SEND_PATH.format(companyId=company_id)


def session_reaction_path(company_id: str) -> str:
    return SESSION_REACTION_PATH.format(companyId=company_id)


# --- field types ---------------------------------------------------------------------------------

MAX_MESSAGE_CHARS = 4096
"""WhatsApp's documented ceiling for a text body (Cloud API); the original validated the same."""

MAX_MESSAGES_PER_WEBHOOK = 500

COMPANY_ID_PATTERN = r"^[A-Za-z0-9_-]{1,50}$"
_COMPANY_ID = re.compile(COMPANY_ID_PATTERN)


def _no_control_characters(value: str) -> str:
    found = first_control_character(value)
    if found is not None:
        raise ValueError(f"contains the control character U+{ord(found):04X}")
    return value


def _not_blank(value: str) -> str:
    # WhatsApp would deliver a message that shows as empty; the original's validator trimmed it first.
    if value and not value.strip():
        raise ValueError("must not be blank (only whitespace)")
    return value


CleanText = Annotated[str, AfterValidator(_no_control_characters)]
MessageText = Annotated[
    str,
    Field(min_length=1, max_length=MAX_MESSAGE_CHARS),
    AfterValidator(_no_control_characters),
    AfterValidator(_not_blank),
]
CompanyId = Annotated[str, Field(pattern=COMPANY_ID_PATTERN)]
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:=+/-]+$")]
PhoneText = Annotated[str, Field(min_length=1, max_length=64)]
"""A phone or chat as a caller wrote it; ``shared.phones`` normalises it."""


def is_company_id(value: str) -> bool:
    return bool(_COMPANY_ID.match(value))


def served_company(requested: str | None, served: str) -> str:
    """The company a request is for (``served`` when it names none); UnknownCompany if not this deployment's."""
    company_id = requested or served
    if company_id != served:
        raise UnknownCompany(f"companyId {company_id!r} is not served by this deployment")
    return company_id


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=False)

    def to_json(self) -> str:
        """Compact JSON with the wire's field names; Russian stays readable."""
        return self.model_dump_json(by_alias=True)

    def to_wire(self) -> dict[str, object]:
        return self.model_dump(by_alias=True, mode="json")


# --- inbound: WhatsApp -> gateway -> api -> Redis -> worker --------------------------------------


class InboundMessage(WireModel):
    """One message a client wrote to the salon, the same model at every hop after the transport.

    The gateway journals it and forwards it; the api validates it, normalises ``from`` to the chat
    (E.164 digits or a group id) and stores it in the chat's buffer; the worker reads it back.
    """

    from_: PhoneText = Field(alias="from")
    message: Annotated[CleanText, Field(max_length=65536)] = Field(validation_alias=AliasChoices("message", "body"))
    message_id: Identifier = Field(alias="messageId", validation_alias=AliasChoices("messageId", "id"))
    timestamp: Annotated[int, Field(ge=0)] | None = None
    """Unix milliseconds, as WhatsApp reported it."""
    type: Annotated[str, Field(max_length=32)] = "text"
    push_name: Annotated[CleanText, Field(max_length=256)] | None = Field(None, alias="pushName")

    @property
    def chat(self) -> str:
        return self.from_

    @property
    def text(self) -> str:
        return self.message


class BatchedWebhook(WireModel):
    """``POST /webhook/whatsapp/batched``: the gateway's form, several messages per request."""

    company_id: CompanyId | None = Field(None, alias="companyId")
    messages: Annotated[list[InboundMessage], Field(min_length=1, max_length=MAX_MESSAGES_PER_WEBHOOK)]


class SingleWebhook(InboundMessage):
    """The original's single-message form ``{from, message, messageId, timestamp}``."""

    company_id: CompanyId | None = Field(None, alias="companyId")

    def as_batch(self) -> BatchedWebhook:
        message = InboundMessage.model_validate(self.model_dump(exclude={"company_id"}))
        return BatchedWebhook(company_id=self.company_id, messages=[message])


def parse_webhook(data: dict[str, object]) -> BatchedWebhook:
    """Either form of the webhook's body, as one batch. Raises pydantic's ValidationError."""
    if "messages" in data:
        return BatchedWebhook.model_validate(data)
    return SingleWebhook.model_validate(data).as_batch()


class InboundReaction(WireModel):
    """``POST /webhook/whatsapp/reaction``: a client reacted to a message."""

    company_id: CompanyId | None = Field(None, alias="companyId")
    from_: PhoneText = Field(alias="from")
    emoji: Annotated[str, Field(min_length=1, max_length=16)]
    message_id: Identifier = Field(alias="messageId")
    timestamp: Annotated[int, Field(ge=0)] | None = None


# --- outbound: worker -> api proxy -> gateway -> WhatsApp ----------------------------------------


class SendRequest(WireModel):
    """``POST /send`` on the gateway and the api's send proxy."""

    phone: PhoneText
    """The chat: a client's phone or, when groups are enabled, a group id (the original's field name)."""
    message: MessageText
    idempotency_key: Identifier | None = Field(None, alias="idempotencyKey")
    author: Literal["bot", "person"] = "person"
    """Who wrote it, for the chat's transcript: the receptionist, or someone at the salon (the default)."""
    batch_id: Identifier | None = Field(None, alias="batchId")
    """The batch a bot's reply answers, so one grep follows a message from the client to its reply."""
    in_reply_to: Identifier | None = Field(None, alias="inReplyTo")
    """The client's message (WhatsApp id) the reply answers."""


class SendResult(WireModel):
    """The gateway's answer to ``POST /send``."""

    success: Literal[True] = True
    message_id: str = Field(alias="messageId")
    phone: str
    company_id: str = Field(alias="companyId")
    duplicate: bool = False


class ProxySendResult(WireModel):
    """The api's answer to ``POST /api/whatsapp/sessions/{companyId}/send`` (the original's shape)."""

    success: Literal[True] = True
    company_id: str = Field(alias="companyId")
    phone: str
    message_id: str = Field(alias="messageId")
    timestamp: int
    duplicate: bool = False


class ReactionRequest(WireModel):
    """``POST /reaction`` on the gateway and the api's reaction proxies: an emoji on a client's message."""

    phone: PhoneText
    emoji: Annotated[str, Field(min_length=1, max_length=8)]
    message_id: Identifier = Field(alias="messageId")
    company_id: CompanyId | None = Field(None, alias="companyId")
    idempotency_key: Identifier | None = Field(None, alias="idempotencyKey")


class ReactionResult(WireModel):
    """The gateway's answer to ``POST /reaction``; the api's proxies add ``companyId``."""

    success: Literal[True] = True
    company_id: str | None = Field(None, alias="companyId")
    message_id: str = Field(alias="messageId")
    phone: str
    emoji: str
    duplicate: bool = False


class TypingRequest(WireModel):
    """``POST /typing`` on the gateway: the salon shows "typing…" while the AI works."""

    phone: PhoneText
    state: Literal["composing", "paused"]


class TakeoverRequest(WireModel):
    """``POST /api/conversations/{phone}/takeover``: a person answers this chat; the AI stays quiet meanwhile."""

    minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] | None = None
    """How long; HUMAN_TAKEOVER_MINUTES (or 60 when that is 0) when omitted."""


class PairRequest(WireModel):
    """``POST /pair`` on the gateway: pair by code instead of a QR scan."""

    phone: PhoneText


# --- the session owner's state -------------------------------------------------------------------


class SessionStatus(StrEnum):
    """What ``GET /health`` on the session owner says the WhatsApp session is doing."""

    STARTING = "starting"
    STANDBY = "standby"
    """Another process owns the number (or Redis can't prove it doesn't): not connecting."""
    CONNECTING = "connecting"
    QR = "qr"
    PAIRED = "paired"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    QR_EXPIRED = "qr_expired"
    REPLACED = "replaced"
    LOGGED_OUT = "logged_out"
    BANNED = "banned"
    OUTDATED = "outdated"
    STOPPED = "stopped"


NEEDS_OPERATOR = frozenset(
    {
        SessionStatus.REPLACED,
        SessionStatus.LOGGED_OUT,
        SessionStatus.QR_EXPIRED,
        SessionStatus.STOPPED,
        SessionStatus.BANNED,
        SessionStatus.OUTDATED,
    }
)
"""Statuses the session leaves only by an operator's action (reconnect, pair, restart)."""


class SessionEvent(WireModel):
    """Published on ``whatsapp:events`` when the session connects, is replaced, logs out...; the api logs it."""

    type: str
    company_id: str = Field(alias="companyId")
    phone_number: str | None = Field(None, alias="phoneNumber")
    reason: str | None = None
    timestamp: int


TestId = Annotated[str, Field(max_length=256)] | int | None


class HealthPing(BaseModel):
    """The original's pub/sub health check, published on ``whatsapp:events``: ``{type: "ping", testId}``.

    Not a WireModel: other fields a prober adds are ignored, not refused, and only ``type`` decides.
    """

    type: Literal["ping"]
    test_id: TestId = Field(None, alias="testId")


class HealthPong(WireModel):
    """The gateway's answer to a HealthPing, published on ``whatsapp:health`` with the ping's ``testId``."""

    type: Literal["pong"] = "pong"
    test_id: TestId = Field(alias="testId")
    service: str
    timestamp: int
    """Unix milliseconds."""


class LeaseHolder(WireModel):
    """The value of ``ai-admin:wa:lease:<company>``: who owns the WhatsApp session and where it serves /send."""

    instance: str
    url: str
    process: str
    since: float

    @classmethod
    def decode(cls, raw: bytes | str) -> LeaseHolder:
        return cls.model_validate(json.loads(raw))


# --- alerts: the api's monitor -> the operator's receivers ---------------------------------------


class Alert(WireModel):
    """POSTed as JSON to ``ALERT_WEBHOOK_URL`` (and written out for Telegram): something the salon must act on.

    One ``firing`` alert when a condition begins and one ``resolved`` when it clears (``shared/alerts.py``).
    """

    company_id: CompanyId = Field(alias="companyId")
    condition: str
    """``session_replaced``, ``session_logged_out``, ``session_banned``, ``session_outdated``,
    ``session_disconnected``, ``gateway_unreachable``, ``journal_backlog``, ``failed_jobs``, ``ai_fallbacks``."""
    status: Literal["firing", "resolved"]
    title: str
    message: str
    """Plain words for the salon's operator: what is wrong, what it means for clients, what to do."""
    started_at: datetime = Field(alias="startedAt")
    """When the condition was first seen (UTC)."""
    resolved_at: datetime | None = Field(None, alias="resolvedAt")
    timestamp: datetime
    """When this alert was decided (UTC); a receiver that was down gets it later, with this time."""
    details: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
