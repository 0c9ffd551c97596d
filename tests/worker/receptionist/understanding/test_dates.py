"""Dates a client names, resolved against the salon's today: Monday 23 November 2026."""

from __future__ import annotations

from datetime import date

import pytest

from services.worker.receptionist.understanding.dates import DateFind, find_date, parse_iso_or_words
from services.worker.receptionist.understanding.text import normalize

TODAY = date(2026, 11, 23)
"""A Monday: "завтра" is Tuesday the 24th, "в пятницу" is the 27th."""


def found(text: str) -> DateFind:
    return find_date(normalize(text), TODAY)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("сегодня", date(2026, 11, 23)),
        ("завтра", date(2026, 11, 24)),
        ("послезавтра", date(2026, 11, 25)),
        ("Можно завтра?", date(2026, 11, 24)),
        ("хочу записаться на послезавтра", date(2026, 11, 25)),
    ],
)
def test_relative_days_in_russian(text: str, day: date) -> None:
    assert found(text).day == day


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("в пятницу", date(2026, 11, 27)),
        ("на пятницу", date(2026, 11, 27)),
        ("пятница", date(2026, 11, 27)),
        ("к пятнице", date(2026, 11, 27)),
        ("в Пятницу", date(2026, 11, 27)),
        ("ПЯТНИЦА", date(2026, 11, 27)),
        ("во вторник", date(2026, 11, 24)),
        ("на вторник", date(2026, 11, 24)),
        ("в среду", date(2026, 11, 25)),
        ("среда", date(2026, 11, 25)),
        ("в четверг", date(2026, 11, 26)),
        ("в субботу", date(2026, 11, 28)),
        ("в воскресенье", date(2026, 11, 29)),
        ("в эту пятницу", date(2026, 11, 27)),
        ("в пт", date(2026, 11, 27)),
        ("Давайте в пятницу в 15", date(2026, 11, 27)),
    ],
)
def test_weekday_names_in_any_case_are_the_next_such_day(text: str, day: date) -> None:
    assert found(text).day == day


def test_the_weekday_of_today_means_next_week() -> None:
    assert found("в понедельник").day == date(2026, 11, 30)


def test_next_weekday_in_this_week_moves_a_week_on() -> None:
    assert found("в следующую пятницу").day == date(2026, 12, 4)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("25 ноября", date(2026, 11, 25)),
        ("на 25 ноября", date(2026, 11, 25)),
        ("25.11", date(2026, 11, 25)),
        ("25/11", date(2026, 11, 25)),
        ("25.11.2026", date(2026, 11, 25)),
        ("1 декабря", date(2026, 12, 1)),
        ("на 28-е", date(2026, 11, 28)),
    ],
)
def test_day_and_month_in_russian(text: str, day: date) -> None:
    assert found(text).day == day


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("22 ноября", date(2027, 11, 22)),
        ("20.11", date(2027, 11, 20)),
    ],
)
def test_a_day_and_month_already_past_is_next_year(text: str, day: date) -> None:
    assert found(text).day == day


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("через неделю", date(2026, 11, 30)),
        ("через 2 дня", date(2026, 11, 25)),
        ("через два дня", date(2026, 11, 25)),
        ("через 3 дня", date(2026, 11, 26)),
        ("через пару дней", date(2026, 11, 25)),
    ],
)
def test_in_n_days_in_russian(text: str, day: date) -> None:
    assert found(text).day == day


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("today", date(2026, 11, 23)),
        ("tomorrow", date(2026, 11, 24)),
        ("day after tomorrow", date(2026, 11, 25)),
        ("on Friday", date(2026, 11, 27)),
        ("Friday", date(2026, 11, 27)),
        ("on Tuesday", date(2026, 11, 24)),
        ("Nov 25", date(2026, 11, 25)),
        ("November 25th", date(2026, 11, 25)),
        ("25th of November", date(2026, 11, 25)),
        ("on the 25th", date(2026, 11, 25)),
        ("in 3 days", date(2026, 11, 26)),
        ("in a week", date(2026, 11, 30)),
        ("Can I come tomorrow at 3pm?", date(2026, 11, 24)),
    ],
)
def test_english_dates(text: str, day: date) -> None:
    assert found(text).day == day


@pytest.mark.parametrize("text", ["в тот же день", "на тот же день", "в этот же день", "the same day"])
def test_the_same_day_is_a_reference_not_a_date(text: str) -> None:
    result = found(text)
    assert result.same_day is True
    assert result.day is None


@pytest.mark.parametrize(
    "text",
    ["в 15.30", "в 15:00", "давайте в 15", "at 3", "хочу на маникюр", "", "2", "после 18"],
)
def test_times_and_other_words_are_not_dates(text: str) -> None:
    result = found(text)
    assert result.day is None
    assert result.same_day is False
    assert result.spans == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("25 ноября в 15", "25 ноября"),
        ("25.11 в 15:00", "25.11"),
        ("в пятницу в 15", "пятницу"),
        ("завтра в 3", "завтра"),
        ("Nov 25 at 6:30pm", "nov 25"),
    ],
)
def test_the_span_covers_the_date_words_only(text: str, words: str) -> None:
    normalized = normalize(text)
    result = find_date(normalized, TODAY)
    assert [normalized[start:end] for start, end in result.spans] == [words]


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2026-11-25", date(2026, 11, 25)),
        ("2027-01-05", date(2027, 1, 5)),
        ("завтра", date(2026, 11, 24)),
        ("пятница", date(2026, 11, 27)),
        (" 25.11 ", date(2026, 11, 25)),
        ("tomorrow", date(2026, 11, 24)),
        ("", None),
        ("   ", None),
        ("когда-нибудь", None),
    ],
)
def test_a_command_date_is_iso_or_words(value: str, day: date | None) -> None:
    assert parse_iso_or_words(value, TODAY) == day
