"""Wire models exchanged between the services over HTTP and through Redis.

Field names are the original's (camelCase on the wire) so an operator's old tooling still reads them.
Unknown fields are rejected: a typo in a producer fails loudly instead of silently losing data.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field

MAX_MESSAGE_CHARS = 4096
"""WhatsApp's documented ceiling for a text body (Cloud API); the original validated the same."""

MAX_MESSAGES_PER_WEBHOOK = 500


def _no_control_characters(value: str) -> str:
    for ch in value:
        if ch in "\n\r\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs"):
            raise ValueError(f"contains the control character U+{ord(ch):04X}")
    return value


CleanText = Annotated[str, AfterValidator(_no_control_characters)]
MessageText = Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS), AfterValidator(_no_control_characters)]
CompanyIdField = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,50}$")]
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:=+/-]+$")]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=False)


class InboundMessage(WireModel):
    """One message a client wrote to the salon, as the gateway forwards it."""

    from_: Annotated[str, Field(min_length=1, max_length=64)] = Field(alias="from")
    message: Annotated[CleanText, Field(max_length=65536)] = Field(validation_alias=AliasChoices("message", "body"))
    message_id: Identifier = Field(alias="messageId", validation_alias=AliasChoices("messageId", "id"))
    timestamp: Annotated[int, Field(ge=0)] | None = None
    type: Annotated[str, Field(max_length=32)] = "text"
    push_name: Annotated[CleanText, Field(max_length=256)] | None = Field(None, alias="pushName")


class BatchedWebhook(WireModel):
    """``POST /webhook/whatsapp/batched``: the gateway's form, several messages per request."""

    company_id: CompanyIdField | None = Field(None, alias="companyId")
    messages: Annotated[list[InboundMessage], Field(min_length=1, max_length=MAX_MESSAGES_PER_WEBHOOK)]


class SingleWebhook(InboundMessage):
    """The original's single-message form ``{from, message, messageId, timestamp}``."""

    company_id: CompanyIdField | None = Field(None, alias="companyId")


class SendRequest(WireModel):
    """``POST /send`` on the gateway and the api's send proxy."""

    phone: Annotated[str, Field(min_length=1, max_length=64)]
    message: MessageText
    idempotency_key: Identifier | None = Field(None, alias="idempotencyKey")


class ReactionRequest(WireModel):
    """``POST /reaction`` on the gateway and the api's reaction proxy: an emoji on a client's message."""

    phone: Annotated[str, Field(min_length=1, max_length=64)]
    emoji: Annotated[str, Field(min_length=1, max_length=8)]
    message_id: Identifier = Field(alias="messageId")
    company_id: str | None = Field(None, alias="companyId")
    idempotency_key: Identifier | None = Field(None, alias="idempotencyKey")


class SendResult(WireModel):
    success: Literal[True] = True
    message_id: str = Field(alias="messageId")
    phone: str
    company_id: str = Field(alias="companyId")
    duplicate: bool = False


class ProxySendResult(WireModel):
    success: Literal[True] = True
    company_id: str = Field(alias="companyId")
    phone: str
    message_id: str = Field(alias="messageId")
    timestamp: int
    duplicate: bool = False
