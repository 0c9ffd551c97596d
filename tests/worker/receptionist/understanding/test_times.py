"""Times a client names: an exact time, a window, or a shift from the time spoken about."""

from __future__ import annotations

from datetime import date, time

import pytest

from services.worker.receptionist.understanding.dates import find_date
from services.worker.receptionist.understanding.text import normalize
from services.worker.receptionist.understanding.times import TimeFind, find_time, parse_clock

TODAY = date(2026, 11, 23)


def found(text: str) -> TimeFind:
    """As ``understand`` reads a message: the date first, then times outside the date's words."""
    normalized = normalize(text)
    return find_time(normalized, find_date(normalized, TODAY).spans)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("в 15:00", time(15)),
        ("на 15:00", time(15)),
        ("в 15", time(15)),
        ("к 15", time(15)),
        ("давайте в 15", time(15)),
        ("в 15.30", time(15, 30)),
        ("в 3 часа дня", time(15)),
        ("в 6 вечера", time(18)),
        ("в 11 утра", time(11)),
        ("в 8 утра", time(8)),
        ("в 11", time(11)),
        ("в 12", time(12)),
        ("в полдень", time(12)),
        ("в час", time(13)),
        ("11am", time(11)),
        ("6:30pm", time(18, 30)),
        ("at 10", time(10)),
        ("at 3pm", time(15)),
        ("Добрый вечер! Можно завтра в 15?", time(15)),
    ],
)
def test_exact_times(text: str, moment: time) -> None:
    result = found(text)
    assert result.exact == moment
    assert (result.start, result.end) == (None, None)


@pytest.mark.parametrize(
    ("hour", "moment"),
    [
        (1, time(13)),
        (3, time(15)),
        (5, time(17)),
        (8, time(20)),
        (9, time(9)),
        (10, time(10)),
    ],
)
def test_a_bare_hour_from_1_to_8_is_in_the_afternoon(hour: int, moment: time) -> None:
    assert found(f"at {hour}").exact == moment
    assert found(f"в {hour}").exact == moment


@pytest.mark.parametrize(("text", "moment"), [("в 3 утра", time(3)), ("at 8am", time(8)), ("в 09:00", time(9))])
def test_morning_words_or_a_written_clock_keep_a_small_hour_in_the_morning(text: str, moment: time) -> None:
    assert found(text).exact == moment


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("после 18", time(18), None),
        ("after 5pm", time(17), None),
        ("до 12", None, time(12)),
        ("before 6pm", None, time(18)),
        ("до обеда", None, time(13)),
        ("с 14 до 16", time(14), time(16)),
        ("from 10 to 12", time(10), time(12)),
        ("between 2 and 4pm", time(14), time(16)),
        ("утром", time(8), time(12)),
        ("завтра утром", time(8), time(12)),
        ("in the morning", time(8), time(12)),
        ("днём", time(12), time(18)),
        ("днем", time(12), time(18)),
        ("после обеда", time(13), time(18)),
        ("вечером", time(18), time(23, 59)),
        ("сегодня вечером", time(18), time(23, 59)),
        ("in the evening", time(18), time(23, 59)),
        ("Добрый день, можно днём?", time(12), time(18)),
    ],
)
def test_windows(text: str, start: time | None, end: time | None) -> None:
    result = found(text)
    assert (result.start, result.end) == (start, end)
    assert result.exact is None


def test_before_noon_is_a_window_not_a_time() -> None:
    result = found("before noon")
    assert result.exact is None
    assert result.end is not None


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("на час позже", 60),
        ("на час раньше", -60),
        ("на полчаса раньше", -30),
        ("на 2 часа позже", 120),
        ("на 30 минут позже", 30),
        ("an hour later", 60),
        ("half an hour earlier", -30),
    ],
)
def test_shifts_from_the_time_spoken_about(text: str, minutes: int) -> None:
    result = found(text)
    assert result.shift_minutes == minutes
    assert (result.exact, result.start, result.end) == (None, None, None)
    assert result.any


@pytest.mark.parametrize(
    "text",
    ["Добрый вечер", "Доброе утро", "Добрый день", "доброго вечера", "Good evening", "good morning"],
)
def test_a_greeting_is_not_a_time_window(text: str) -> None:
    result = found(text)
    assert (result.exact, result.start, result.end, result.shift_minutes) == (None, None, None, 0)
    assert not result.any


@pytest.mark.parametrize("text", ["25 ноября", "25.11", "через 2 дня", "на 28-е", "Nov 25", "in 3 days"])
def test_the_numbers_of_a_date_are_not_hours(text: str) -> None:
    assert not found(text).any


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("25 ноября в 15", time(15)),
        ("25.11 в 15:00", time(15)),
        ("через 2 дня в 11 утра", time(11)),
        ("Nov 25 at 6:30pm", time(18, 30)),
    ],
)
def test_a_time_next_to_a_date(text: str, moment: time) -> None:
    assert found(text).exact == moment


@pytest.mark.parametrize("text", ["в 25", "в 15:75", "хочу на маникюр", ""])
def test_no_time(text: str) -> None:
    assert not found(text).any


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("15:00", time(15)),
        ("09:00", time(9)),
        ("9:30", time(9, 30)),
        ("15", time(15)),
        ("3", time(15)),
        ("в 3 часа дня", time(15)),
        ("11am", time(11)),
        ("", None),
        ("когда удобно", None),
    ],
)
def test_a_command_time_is_a_clock_or_words(value: str, moment: time | None) -> None:
    assert parse_clock(value) == moment
