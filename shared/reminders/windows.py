"""A daily window of the salon's wall clock, such as the day-before reminder's "19:00-21:00"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
MINUTES_A_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class DailyWindow:
    """From ``start`` to ``end`` minutes after midnight, ``end`` up to 24:00, never crossing midnight."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> DailyWindow:
        match = _WINDOW.match(text)
        if match is None:
            raise ValueError("must be HH:MM-HH:MM, e.g. 19:00-21:00")
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        if m1 > 59 or m2 > 59:
            raise ValueError("minutes must be 00-59")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if not 0 <= start < end <= MINUTES_A_DAY:
            raise ValueError("must start before it ends, within one day (00:00-24:00 at most)")
        return cls(start, end)

    def on(self, day: date, zone: tzinfo) -> tuple[datetime, datetime]:
        """The window's opening and closing moments on ``day``, in ``zone`` (a DST day is still that wall time)."""
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        return _wall(midnight, self.start), _wall(midnight, self.end)

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"


def _wall(midnight: datetime, minutes: int) -> datetime:
    """``minutes`` of wall-clock time after ``midnight``; 24:00 is the next midnight."""
    if minutes >= MINUTES_A_DAY:
        following = midnight.date() + timedelta(days=1)
        return datetime(following.year, following.month, following.day, tzinfo=midnight.tzinfo)
    return midnight.replace(hour=minutes // 60, minute=minutes % 60)
