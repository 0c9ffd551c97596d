"""One message to a client about a visit: a reminder, or a notice of the salon's change.

A notice's ``key`` is its identity: the visit, the kind and the visit's time (and master, for a move). It is
the idempotency key of the send and the scheduler's "queued once" marker, so a restart, a retry or a second
scheduler can't send it twice, and a visit moved to a new time gets new reminders under new keys.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

NoticeKind = Literal["day_before", "two_hours", "created", "moved", "cancelled"]
REMINDER_KINDS: frozenset[str] = frozenset({"day_before", "two_hours"})
"""A reply to one of these may confirm the visit."""


class Notice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    company_id: str
    kind: NoticeKind
    visit_id: int
    phone: str
    start: datetime
    """The visit's time this message is about (for a move: the new one)."""
    staff_id: int
    previous_start: datetime | None = None
    """A move's old time."""
    expires_at: datetime
    """Not sent after this: a reminder out of its window, a notice about a visit that has begun."""

    @property
    def key(self) -> str:
        key = f"{self.kind}-{self.visit_id}-{int(self.start.timestamp())}"
        return f"{key}-{self.staff_id}" if self.kind == "moved" else key

    @property
    def job_id(self) -> str:
        """RQ job ids allow ``[A-Za-z0-9_-]`` only; one job id per notice, whoever queues it."""
        digest = hashlib.sha256(f"{self.company_id}:{self.key}".encode()).hexdigest()[:32]
        return f"notice-{digest}"

    @property
    def is_reminder(self) -> bool:
        return self.kind in REMINDER_KINDS
