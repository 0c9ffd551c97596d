"""The salon's wall clock: "today", "tomorrow" and "this evening" are the salon's, not the server's.

A booking dialogue is only reproducible at a fixed moment ("завтра" is a different date every
day, and at 22:00 nothing is free "сегодня"), so tests and ``make eval`` may freeze the clock with
``CLOCK_FROZEN_AT``; settings refuse that outside ``APP_ENV=test``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Europe/Moscow"
"""The original's greetings and windows are in Moscow time; used when a backend names no valid zone."""


def zone(name: str | None) -> ZoneInfo:
    """A time zone by IANA name, falling back to Moscow for names YClients sometimes sends ("0", "3")."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(DEFAULT_TIMEZONE)


@dataclass(frozen=True, slots=True)
class Clock:
    timezone: tzinfo
    frozen_at: datetime | None = None

    def now(self) -> datetime:
        """Aware, in the salon's time zone."""
        moment = self.frozen_at if self.frozen_at is not None else datetime.now(UTC)
        return moment.astimezone(self.timezone)

    def today(self) -> date:
        return self.now().date()

    def in_zone(self, timezone: tzinfo) -> Clock:
        return Clock(timezone, self.frozen_at)
