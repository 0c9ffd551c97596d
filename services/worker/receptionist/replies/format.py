"""Dates, times, prices, services and names written the way a Russian or English administrator writes them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from services.worker.receptionist.understanding.lexicon import lexicon
from services.worker.receptionist.understanding.matching import transliterate
from services.worker.receptionist.understanding.morphology import inflect_person, inflect_phrase
from services.worker.receptionist.understanding.text import Language

_MONTHS_RU = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
_WEEKDAYS_RU_ACC = ("понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье")
_WEEKDAYS_RU_SHORT = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def as_date(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _day_month(day: date, language: Language) -> str:
    if language == "en":
        return f"{day.day} {_MONTHS_EN[day.month - 1]}"
    return f"{day.day} {_MONTHS_RU[day.month - 1]}"


def _day(value: str | date, today: date, language: Language, *, purpose: bool) -> str:
    day = as_date(value)
    relative_en = {0: "today", 1: "tomorrow"}.get((day - today).days)
    relative_ru = {0: "сегодня", 1: "завтра", 2: "послезавтра"}.get((day - today).days)
    when = _day_month(day, language)
    if language == "en":
        weekday = _WEEKDAYS_EN[day.weekday()]
        if purpose:
            return f"for {relative_en or weekday}, {when}"
        return f"{relative_en}, {when}" if relative_en else f"on {weekday}, {when}"
    if relative_ru:
        return f"на {relative_ru}, {when}" if purpose else f"{relative_ru}, {when}"
    preposition = "на" if purpose else ("во" if day.weekday() == 1 else "в")
    return f"{preposition} {_WEEKDAYS_RU_ACC[day.weekday()]}, {when}"


def day_on(value: str | date, today: date, language: Language) -> str:
    """ "завтра, 24 ноября" / "в пятницу, 27 ноября"; "tomorrow, 24 November" / "on Friday, 27 November"."""
    return _day(value, today, language, purpose=False)


def day_for(value: str | date, today: date, language: Language) -> str:
    """ "на завтра, 24 ноября" / "на пятницу, 27 ноября"; "for tomorrow, 24 November"."""
    return _day(value, today, language, purpose=True)


def day_short(value: str | date, language: Language) -> str:
    day = as_date(value)
    if language == "en":
        return f"{_WEEKDAYS_EN[day.weekday()][:3]}, {_day_month(day, language)}"
    return f"{_WEEKDAYS_RU_SHORT[day.weekday()]}, {_day_month(day, language)}"


def price(service: dict[str, Any], language: Language) -> str:
    low, high = int(service.get("price_min") or 0), int(service.get("price_max") or 0)
    if high <= low:
        return f"{low} ₽"
    return f"{low}–{high} ₽" if language == "en" else f"от {low} до {high} ₽"


def service_title(title: str, language: Language) -> str:
    """The catalog's title, or its English name from the lexicon in English replies."""
    if language == "en":
        return lexicon().service_titles_en.get(title.lower(), title)
    return title


def service_acc(title: str, language: Language) -> str:
    """ "на мужскую стрижку" needs the accusative: "мужскую стрижку"; English: "a men's haircut"."""
    if language == "en":
        return service_title(title, language)
    return inflect_phrase(title, "accs").lower() if not _is_proper(title) else inflect_phrase(title, "accs")


def service_gen(title: str, language: Language) -> str:
    if language == "en":
        return service_title(title, language)
    return inflect_phrase(title, "gent").lower()


def _is_proper(title: str) -> bool:
    """Titles with a Latin brand name keep their capitals."""
    return any("a" <= ch.lower() <= "z" for ch in title)


def category_name(category: str, language: Language) -> str:
    if language == "en":
        return lexicon().categories_en.get(category.lower(), category)
    return category.lower()


def person(name: str, case: str, language: Language) -> str:
    """ "к Марии Ивановой" (dative), "у Марии Ивановой" (genitive); English: the name in Latin letters."""
    if language == "en":
        return transliterate(name) if any("а" <= ch.lower() <= "я" for ch in name) else name
    return inflect_person(name, case)


def first_name(name: str, language: Language) -> str:
    first = name.split(maxsplit=1)[0] if name.split() else name
    return person(first, "nomn", language) if language == "en" else first


def time_of_day_greeting(now: datetime, language: Language) -> str:
    """Moscow time of day, as the original greeted."""
    hour = now.hour
    if language == "en":
        if 5 <= hour < 12:
            return "Good morning"
        if 12 <= hour < 18:
            return "Good afternoon"
        if 18 <= hour < 23:
            return "Good evening"
        return "Hello"
    if 5 <= hour < 12:
        return "Доброе утро"
    if 12 <= hour < 18:
        return "Добрый день"
    if 18 <= hour < 23:
        return "Добрый вечер"
    return "Здравствуйте"


def join_or(items: list[str], language: Language) -> str:
    if len(items) <= 1:
        return "".join(items)
    word = " or " if language == "en" else " или "
    return ", ".join(items[:-1]) + word + items[-1]
