"""Dates in a message: "завтра", "в пятницу", "25 ноября", "25.11", "через неделю", "next Friday", "Nov 25".

Relative words and weekdays are resolved here against the salon's today (weekday names in any case,
through their lemmas); day-and-month and "in N days" fragments go through ``dateparser`` (ru, en).
Each finder returns the character spans it used, so the time finder does not read "25" in
"25 ноября" as 25 o'clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import dateparser

from services.worker.receptionist.understanding.morphology import lemmas
from services.worker.receptionist.understanding.text import normalize

Span = tuple[int, int]

WEEKDAY_LEMMAS = {
    "понедельник": 0,
    "вторник": 1,
    "среда": 2,
    "четверг": 3,
    "пятница": 4,
    "суббота": 5,
    "воскресенье": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
    "пн": 0,
    "вт": 1,
    "ср": 2,
    "чт": 3,
    "пт": 4,
    "сб": 5,
    "вс": 6,
}
SHORT_WEEKDAYS = frozenset(
    {"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun", "пн", "вт", "ср", "чт", "пт", "сб", "вс"}
)
"""Abbreviations count only after a preposition ("в пт", "on sat"): "вс" alone is too often a typo."""

_MONTHS = (
    r"январ\w*|феврал\w*|март\w*|апрел\w*|ма[йяе]|июн\w*|июл\w*|август\w*|сентябр\w*|октябр\w*|ноябр\w*|декабр\w*"
    r"|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:-?(?:го|е|ое|th|st|nd|rd))?\s+(?:of\s+)?({_MONTHS})\b")
_MONTH_DAY = re.compile(rf"\b({_MONTHS})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b")
_NUMERIC = re.compile(r"(?<![\d:.])(\d{1,2})[./](\d{1,2})(?:[./](\d{2}|\d{4}))?(?![\d:])")
_TIME_PREPOSITION = re.compile(r"(?:\bв|\bк|\bat|\bby|\baround|\bс|\bдо|\bпосле|\bоколо)\s*$")
_IN_DAYS = re.compile(
    r"\b(через\s+(?:\d+|одну|один|два|две|три|четыре|пять|пару)?\s*(?:день|дня|дней|недел[юиь]|неделю|недель)"
    r"|in\s+(?:\d+|a|one|two|three|four|five|a couple of)\s+(?:days?|weeks?))\b"
)
_DAY_OF_MONTH = re.compile(
    r"\b(?:на\s+)?(\d{1,2})(?:-?(?:го|е)\s+числа|\s+числа|-го|-е)\b|\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b"
)
_SAME_DAY = re.compile(r"\b(?:(?:в|на)\s+)?(?:тот\s+же\s+(?:самый\s+)?день|этот\s+же\s+день|same\s+day|that\s+day)\b")
_RELATIVE = (
    (re.compile(r"\bпослезавтра\b|\bday after tomorrow\b"), 2),
    (re.compile(r"\bзавтра\b|\btomorrow\b"), 1),
    (re.compile(r"\bсегодня\b|\btoday\b|\btonight\b|\bсейчас\b"), 0),
)
_WEEKEND = re.compile(r"\b(?:на\s+)?выходны[хе]\b|\bweekend\b")
_NEXT = re.compile(r"следующ\w*\s*$")
_WEEKDAY_PREPOSITION = re.compile(r"(?:\bв|\bво|\bна|\bon|\bthis|\bnext)\s*$")
_WORD = re.compile(r"[a-zа-я]+")


@dataclass
class DateFind:
    day: date | None = None
    same_day: bool = False
    """"в тот же день": the day spoken about before, which only the dialogue knows."""
    spans: list[Span] = field(default_factory=list)


def _future(candidate: date, today: date) -> date:
    """A date without a year is the next one from today ("25 ноября" said in December is next year)."""
    if candidate < today:
        try:
            return candidate.replace(year=candidate.year + 1)
        except ValueError:
            return candidate
    return candidate


@lru_cache(maxsize=1024)
def _parse_fragment(fragment: str, today: date) -> date | None:
    """dateparser costs about half a millisecond a call; the same words on the same day give the same date."""
    parsed = dateparser.parse(
        fragment,
        languages=["ru", "en"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": datetime.combine(today, time(12)),
            "PREFER_DAY_OF_MONTH": "first",
        },
    )
    return parsed.date() if parsed else None


def _weekday(text: str, today: date, found: DateFind) -> None:
    for match in _WORD.finditer(text):
        word = match.group(0)
        weekday = None
        for form in {word, *lemmas(word)}:
            if form in WEEKDAY_LEMMAS:
                weekday = WEEKDAY_LEMMAS[form]
        if weekday is None:
            continue
        before = text[: match.start()]
        if word in SHORT_WEEKDAYS and not _WEEKDAY_PREPOSITION.search(before):
            continue
        ahead = (weekday - today.weekday()) % 7 or 7
        day = today + timedelta(days=ahead)
        if _NEXT.search(before) and day.isocalendar()[1] == today.isocalendar()[1]:
            day += timedelta(days=7)
        found.day = day
        found.spans.append((match.start(), match.end()))
        return


def _found(day: date | None, span: Span, *, same_day: bool = False) -> DateFind:
    return DateFind(day=day, same_day=same_day, spans=[span])


def _relative(text: str, today: date) -> DateFind | None:
    match = _SAME_DAY.search(text)
    if match:
        return _found(None, match.span(), same_day=True)
    for pattern, offset in _RELATIVE:
        match = pattern.search(text)
        if match:
            return _found(today + timedelta(days=offset), match.span())
    return None


def _spelled(text: str, today: date) -> DateFind | None:
    """ "25 ноября", "Nov 25", "через неделю": dateparser reads the fragment."""
    for pattern in (_DAY_MONTH, _MONTH_DAY, _IN_DAYS):
        match = pattern.search(text)
        if match:
            day = _parse_fragment(match.group(0), today)
            if day is not None:
                return _found(day if pattern is _IN_DAYS else _future(day, today), match.span())
    return None


def _numeric(text: str, today: date) -> DateFind | None:
    """ "25.11", "25/11/2026"; not "в 15.30", which is a time."""
    for match in _NUMERIC.finditer(text):
        if _TIME_PREPOSITION.search(text[: match.start()]):
            continue
        day_of_month, month = int(match.group(1)), int(match.group(2))
        year = int(match.group(3)) if match.group(3) else today.year
        year = year + 2000 if year < 100 else year
        try:
            candidate = date(year, month, day_of_month)
        except ValueError:
            continue
        return _found(candidate if match.group(3) else _future(candidate, today), match.span())
    return None


def _weekday_or_weekend(text: str, today: date) -> DateFind | None:
    found = DateFind()
    _weekday(text, today, found)
    if found.day is not None:
        return found
    match = _WEEKEND.search(text)
    if match:
        return _found(today + timedelta(days=(5 - today.weekday()) % 7 or 7), match.span())
    return None


def _day_of_month(text: str, today: date) -> DateFind | None:
    """ "на 28-е", "the 30th": this month, or next month when that day has passed."""
    match = _DAY_OF_MONTH.search(text)
    if not match:
        return None
    number = int(match.group(1) or match.group(2))
    for months_ahead in (0, 1):
        month = (today.month - 1 + months_ahead) % 12 + 1
        year = today.year + (today.month - 1 + months_ahead) // 12
        try:
            candidate = date(year, month, number)
        except ValueError:
            continue
        if candidate >= today:
            return _found(candidate, match.span())
    return None


_FINDERS = (_relative, _spelled, _numeric, _weekday_or_weekend, _day_of_month)


def find_date(text: str, today: date) -> DateFind:
    """The first date the normalised ``text`` names, resolved against ``today``."""
    for finder in _FINDERS:
        found = finder(text, today)
        if found is not None:
            return found
    return DateFind()


def parse_iso_or_words(value: str, today: date) -> date | None:
    """A command's ``date`` parameter: ``YYYY-MM-DD``, or words the executor also accepts ("завтра")."""
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    return find_date(normalize(text), today).day
