"""Times in a message: an exact time ("в 15:00", "в 15", "в 3 часа дня", "11am"), a window ("после 18",
"до обеда", "утром", "after 5pm"), or a shift from the time spoken about ("на час позже").

A bare hour from 1 to 8 with no "утра"/"am" is an afternoon hour, as people mean it in a salon open
by day ("в 3" is 15:00), which is the original's rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time

Span = tuple[int, int]

MORNING = (time(8), time(12))
DAYTIME = (time(12), time(18))
EVENING = (time(18), time(23, 59))
LUNCH = time(13)
MAX_SHIFT_MINUTES = 24 * 60
LAST_AFTERNOON_HOUR = 8
"""Hours 1..8 said without "утра"/"am" are read as 13..20."""

_HOUR = r"(\d{1,2})(?:[:.](\d{2}))?"
_PART = r"\s*(?:час(?:а|ов)?|ч\.?|hours?|o'clock|часик\w*)?\s*(утра|дня|вечера|ночи|am|pm|a\.m\.|p\.m\.)?"
_GREETINGS = re.compile(r"добр\w*\s+(?:утр|вечер|дня|день|ночи)\w*|good\s+(?:morning|afternoon|evening)")
_RANGE = re.compile(rf"(?:\bс|\bfrom|\bbetween)\s+{_HOUR}{_PART}\s*(?:до|to|-|and|till|until)\s*{_HOUR}{_PART}")
_AFTER = re.compile(rf"(?:\bпосле|\bпозже|\bне раньше|\bafter|\blater than|\bfrom)\s+{_HOUR}{_PART}")
_BEFORE = re.compile(rf"(?:\bдо|\bраньше|\bне позже|\bbefore|\bby|\buntil|\btill|\bearlier than)\s+{_HOUR}{_PART}")
_AT = re.compile(rf"(?:\bв|\bк|\bна|\bat|\baround|\bоколо|\bfor|\bчасов в|\bчасиков в|\bчаса в)\s+{_HOUR}{_PART}")
_CLOCK = re.compile(r"(?<![\d.])(\d{1,2}):(\d{2})(?![\d])")
_SUFFIXED = re.compile(r"(?<![\d:.])(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|утра|вечера)\b")
_WORD_TIMES = (
    (re.compile(r"\b(?:в|at)\s+(?:час|one)\b(?!\s*(?:позже|раньше|later|earlier))"), time(13)),
    (re.compile(r"(?<!до )(?<!before )(?<!after )(?<!после )(?:\b(?:в\s+)?полдень\b|\bnoon\b|\bmidday\b)"), time(12)),
)
_BEFORE_LUNCH = re.compile(r"\bдо\s+обеда\b|\bbefore\s+lunch\b|\bдо\s+полудня\b|\bbefore\s+noon\b")
_AFTER_LUNCH = re.compile(
    r"\bпосле\s+обеда\b|\bafter\s+lunch\b|\bafter\s+noon\b|\bafternoon\b|\bдн[её]м\b|\bв\s+обед\b"
)
_MORNING = re.compile(r"\bутр(?:ом|о|ечком)\b|\bmorning\b|\bс\s+утра\b|\bпораньше\b|\bearly\b")
_EVENING = re.compile(r"\bвечер(?:ом|ку|а)?\b|\bevening\b|\btonight\b|\bпосле\s+работы\b|\bпопозже\b|\blate\b")
_SHIFT = re.compile(
    r"(?:на\s+)?(час|полчаса|пол\s*часа|(\d+)\s*час\w*|(\d+)\s*минут\w*|an?\s+hour|half\s+an\s+hour|(\d+)\s*hours?"
    r"|(\d+)\s*min\w*)\s+(позже|раньше|попозже|пораньше|later|earlier)"
)


@dataclass
class TimeFind:
    exact: time | None = None
    start: time | None = None
    """Earliest acceptable start ("после 18")."""
    end: time | None = None
    """Latest acceptable start is before this ("до 12")."""
    shift_minutes: int = 0
    """"на час позже": relative to the time spoken about before."""
    spans: list[Span] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return self.exact is not None or self.start is not None or self.end is not None or bool(self.shift_minutes)


def _hour(raw_hour: str, raw_minute: str | None, part: str | None, assume_afternoon: bool = True) -> time | None:
    hour, minute = int(raw_hour), int(raw_minute or 0)
    if minute > 59 or hour > 24:
        return None
    if part in ("pm", "p.m.", "вечера", "дня") and hour < 12:
        hour += 12
    elif part in ("am", "a.m.") and hour == 12:
        hour = 0
    elif part is None and assume_afternoon and 1 <= hour <= LAST_AFTERNOON_HOUR:
        hour += 12
    if hour == 24:
        hour = 0
    return time(hour, minute)


def _masked(text: str, spans: list[Span]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


class _Reader:
    """Reads one kind of time expression after another, masking what each used."""

    def __init__(self, text: str, taken: list[Span]) -> None:
        self.found = TimeFind()
        self.masked = _masked(text, taken + [match.span() for match in _GREETINGS.finditer(text)])

    def take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        match = pattern.search(self.masked)
        if match:
            self.found.spans.append(match.span())
            self.masked = _masked(self.masked, [match.span()])
        return match

    def shift(self) -> None:
        match = self.take(_SHIFT)
        if not match:
            return
        amount, hours, minutes, en_hours, en_minutes, direction = match.groups()
        if hours or en_hours:
            delta = 60 * int(hours or en_hours)
        elif minutes or en_minutes:
            delta = int(minutes or en_minutes)
        else:
            delta = 30 if "пол" in amount or "half" in amount else 60
        if delta > MAX_SHIFT_MINUTES:
            return  # "на 1000 часов позже" is not a time anyone books by
        self.found.shift_minutes = -delta if direction in ("раньше", "пораньше", "earlier") else delta

    def bounds(self) -> None:
        match = self.take(_RANGE)
        if match:
            self.found.start = _hour(match.group(1), match.group(2), match.group(3))
            self.found.end = _hour(match.group(4), match.group(5), match.group(6))
        if self.found.start is None and (match := self.take(_AFTER)):
            self.found.start = _hour(match.group(1), match.group(2), match.group(3))
        if self.found.end is None and (match := self.take(_BEFORE)):
            self.found.end = _hour(match.group(1), match.group(2), match.group(3))

    def exact(self) -> bool:
        for clock in (_SUFFIXED, _CLOCK, _AT):
            match = clock.search(self.masked)
            if match:
                part = match.group(3) if clock is not _CLOCK else None
                moment = _hour(match.group(1), match.group(2), part, assume_afternoon=clock is not _CLOCK)
                if moment is not None:
                    self.take(clock)
                    self.found.exact = moment
                    return True
        for pattern, moment in _WORD_TIMES:
            if self.take(pattern):
                self.found.exact = moment
                return True
        return False

    def periods(self) -> None:
        if self.take(_BEFORE_LUNCH):
            self.found.end = self.found.end or LUNCH
        lunch = "обеда" in self.masked or "lunch" in self.masked
        for pattern, window in (
            (_AFTER_LUNCH, (LUNCH if lunch else DAYTIME[0], DAYTIME[1])),
            (_MORNING, MORNING),
            (_EVENING, EVENING),
        ):
            if self.found.start is None and self.found.end is None and self.take(pattern):
                self.found.start, self.found.end = window


def find_time(text: str, taken: list[Span]) -> TimeFind:
    """Times in the normalised ``text``, ignoring characters in ``taken`` (dates) and greetings."""
    reader = _Reader(text, taken)
    reader.shift()
    reader.bounds()
    if not reader.exact():
        reader.periods()
    return reader.found


def parse_clock(value: str) -> time | None:
    """A command's ``time`` parameter: ``HH:MM``, or words ("в 3 часа дня") the executor also accepts."""
    text = value.strip().lower()
    if not text:
        return None
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?", text)
    if match:
        return _hour(match.group(1), match.group(2), None, assume_afternoon=":" not in text)
    return find_time(text, []).exact
