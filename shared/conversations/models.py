"""What the conversation store returns: the api's JSON and the operator's page read these."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shared.wire import WireModel


class Author(StrEnum):
    CLIENT = "client"
    BOT = "bot"
    PERSON = "person"
    """Someone at the salon: from its own phone, the operator's page or the CLI."""


class ChatSummary(WireModel):
    """One line of ``GET /api/conversations``."""

    phone: str
    name: str | None = None
    last_message: str | None = Field(None, alias="lastMessage")
    last_author: Author | None = Field(None, alias="lastAuthor")
    last_at: int | None = Field(None, alias="lastAt")
    """Unix milliseconds."""
    unanswered: bool = False
    """The client wrote last: nobody (bot or person) has answered yet."""
    waiting: int = 0
    """Client messages that arrived while the AI was paused and that no one has answered."""
    ai_paused: bool = Field(False, alias="aiPaused")
    paused_until: int | None = Field(None, alias="pausedUntil")
    """Unix milliseconds; None when the AI answers this chat."""
    paused_by: str | None = Field(None, alias="pausedBy")


class Turn(WireModel):
    """What the receptionist did for one batch: the commands it ran and how each ended."""

    batch_id: str = Field(alias="batchId")
    provider: str
    commands: list[dict[str, object]]
    at: int


class TranscriptEntry(WireModel):
    """One message of ``GET /api/conversations/{phone}``, oldest first."""

    direction: str
    """``in`` (from the client) or ``out`` (to the client, by the bot or a person)."""
    author: Author
    kind: str
    text: str
    at: int
    message_id: str | None = Field(None, alias="messageId")
    batch_id: str | None = Field(None, alias="batchId")
    in_reply_to: str | None = Field(None, alias="inReplyTo")
    held: bool = False
    """Arrived while the AI was paused and was not answered yet."""
    turn: Turn | None = None
    """On a bot's reply: the turn that produced it."""
