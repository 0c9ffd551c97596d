"""What the receptionist remembers about a chat, in Redis under the original's keys and TTLs.

``ai-admin:dialog:`` (24 h) is the conversation in progress: what is being booked, the times offered, the
question waiting for an answer. ``client:`` (7 days) is who the client is; ``preferences:`` (90
days) their usual staff member and language; ``messages:`` the last 50 lines of the chat (24 h).
A turn reads them under the chat lock and writes them in the same transaction as its decision.
"""

from __future__ import annotations

import datetime as dt
import json
from datetime import date, datetime
from typing import Any, Literal

import redis
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared import redis_keys
from shared.logging import get_logger

log = get_logger(__name__)


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")


class OfferedSlot(_Record):
    start: datetime
    staff_id: int
    staff: str
    service_id: int | None = None
    """The service the backend found the time free for (None in memories written before it was kept)."""


class Selection(_Record):
    """The booking being put together across turns."""

    service_id: int | None = None
    service: str | None = None
    staff_id: int | None = None
    staff: str | None = None
    day: date | None = None
    time: dt.time | None = None
    time_from: dt.time | None = None
    time_to: dt.time | None = None


class Pending(_Record):
    """A question we asked and the answer we wait for."""

    kind: Literal["name", "cancel_choice", "reschedule_choice", "service_choice"]
    booking_ids: list[int] = Field(default_factory=list)
    service_ids: list[int] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    """For "name": the booking to make once the name is known; for "reschedule_choice": date and time."""


class RemindedVisit(_Record):
    """The visit a reminder was about, when the client answered it with a "no": what to cancel or move."""

    booking_id: int
    start: datetime
    service: str = ""
    staff: str = ""


class DialogState(_Record):
    selection: Selection = Field(default_factory=Selection)
    offered: list[OfferedSlot] = Field(default_factory=list)
    offered_for: Literal["book", "reschedule"] = "book"
    reschedule_booking_id: int | None = None
    pending: Pending | None = None
    asked_time: bool = False
    last_booking_id: int | None = None
    last_booking_start: datetime | None = None
    last_booking_staff_id: int | None = None
    language: Literal["ru", "en"] | None = None
    reminded: RemindedVisit | None = None

    def clear_offer(self) -> None:
        self.offered = []
        self.offered_for = "book"
        self.reschedule_booking_id = None


class ClientProfile(_Record):
    name: str | None = None
    name_asked: bool = False
    last_greeting_date: date | None = None
    asked_help_at: datetime | None = None


class Preferences(_Record):
    staff_id: int | None = None
    service_id: int | None = None
    language: Literal["ru", "en"] | None = None


class ChatMemory(BaseModel):
    dialog: DialogState = Field(default_factory=DialogState)
    client: ClientProfile = Field(default_factory=ClientProfile)
    preferences: Preferences = Field(default_factory=Preferences)
    history: list[dict[str, Any]] = Field(default_factory=list)
    """Oldest first; what this turn adds goes to ``new_lines``."""
    new_lines: list[dict[str, Any]] = Field(default_factory=list)

    def remember(self, role: Literal["client", "assistant"], text: str, at: datetime) -> None:
        self.new_lines.append({"role": role, "text": text, "at": at.isoformat()})


def _load(model: type[_Record], raw: bytes | None, key: str) -> Any:
    if raw is None:
        return model()
    try:
        return model.model_validate_json(raw)
    except ValidationError:
        # A shape from an older release must not break the chat: forget it and start afresh.
        log.warning("Unreadable memory record dropped", key_prefix=key.split(":", 1)[0])
        return model()


class MemoryStore:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def load(self, company_id: str, phone: str, *, history: bool = True) -> ChatMemory:
        """``history=False``: without the chat's last lines (up to 50 to fetch and parse), for a turn that
        shows them to no one; what the turn adds is written all the same."""
        keys = (
            redis_keys.dialog(company_id, phone),
            redis_keys.client(company_id, phone),
            redis_keys.preferences(company_id, phone),
        )
        with self._client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
            if history:
                pipe.lrange(redis_keys.messages(company_id, phone), 0, redis_keys.MESSAGES_KEPT - 1)
            dialog, client, preferences, *rest = pipe.execute()
        lines = rest[0] if rest else []
        past = []
        for raw in reversed(lines):
            try:
                past.append(json.loads(raw))
            except ValueError:
                continue
        return ChatMemory(
            dialog=_load(DialogState, dialog, keys[0]),
            client=_load(ClientProfile, client, keys[1]),
            preferences=_load(Preferences, preferences, keys[2]),
            history=past,
        )

    @staticmethod
    def save(pipe: redis.client.Pipeline, company_id: str, phone: str, memory: ChatMemory) -> None:
        """Queue the writes on ``pipe`` (a MULTI the caller also stores the turn's decision in)."""
        pipe.set(
            redis_keys.dialog(company_id, phone), memory.dialog.model_dump_json(), ex=redis_keys.DIALOG_TTL_SECONDS
        )
        pipe.set(
            redis_keys.client(company_id, phone), memory.client.model_dump_json(), ex=redis_keys.CLIENT_TTL_SECONDS
        )
        pipe.set(
            redis_keys.preferences(company_id, phone),
            memory.preferences.model_dump_json(),
            ex=redis_keys.PREFERENCES_TTL_SECONDS,
        )
        if memory.new_lines:
            key = redis_keys.messages(company_id, phone)
            pipe.lpush(key, *(json.dumps(line, ensure_ascii=False) for line in memory.new_lines))
            pipe.ltrim(key, 0, redis_keys.MESSAGES_KEPT - 1)
            pipe.expire(key, redis_keys.MESSAGES_TTL_SECONDS)
