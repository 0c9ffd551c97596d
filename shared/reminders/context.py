"""The last reminder a chat got, so a "да" soon after it confirms that visit (the original's reminder_context)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis
from pydantic import BaseModel, ConfigDict, ValidationError

from shared import redis_keys


class ReminderContext(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    visit_id: int
    kind: str
    start: datetime
    service: str = ""
    staff: str = ""
    sent_at: datetime
    """When WhatsApp accepted the reminder (UTC)."""


class ReminderContexts:
    def __init__(self, client: redis.Redis, company_id: str) -> None:
        self._client = client
        self._company_id = company_id

    def remember(self, chat: str, context: ReminderContext) -> None:
        key = redis_keys.reminder_context(self._company_id, chat)
        self._client.set(key, context.model_dump_json(), ex=redis_keys.REMINDER_CONTEXT_TTL_SECONDS)

    def recent(self, chat: str, within: timedelta, now: datetime | None = None) -> ReminderContext | None:
        """The chat's last reminder, if it was sent less than ``within`` ago."""
        raw = self._client.get(redis_keys.reminder_context(self._company_id, chat))
        if raw is None:
            return None
        try:
            context = ReminderContext.model_validate_json(raw)
        except ValidationError:
            return None
        moment = now or datetime.now(UTC)
        return context if moment - context.sent_at <= within else None
