from __future__ import annotations

from pydantic import Field

from shared.reminders.settings import ReminderSettings


class SchedulerSettings(ReminderSettings):
    scheduler_poll_seconds: float = Field(60.0, ge=0.2, le=3600, alias="SCHEDULER_POLL_SECONDS")
    """How often the booking backend is asked what changed (the original polled every minute); a YClients
    webhook wakes the scheduler sooner."""
