"""Dates, prices, services and names written the way a Russian or English administrator writes them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from services.worker.receptionist.replies.format import (
    day_for,
    day_on,
    day_short,
    first_name,
    join_or,
    person,
    price,
    service_acc,
    service_gen,
    service_title,
    time_of_day_greeting,
)
from services.worker.receptionist.understanding.text import Language

TODAY = date(2026, 11, 23)
"""A Monday."""
MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize(
    ("day", "russian", "english"),
    [
        (date(2026, 11, 23), "сегодня, 23 ноября", "today, 23 November"),
        (date(2026, 11, 24), "завтра, 24 ноября", "tomorrow, 24 November"),
        (date(2026, 11, 25), "послезавтра, 25 ноября", "on Wednesday, 25 November"),
        (date(2026, 11, 26), "в четверг, 26 ноября", "on Thursday, 26 November"),
        (date(2026, 11, 27), "в пятницу, 27 ноября", "on Friday, 27 November"),
        (date(2026, 11, 28), "в субботу, 28 ноября", "on Saturday, 28 November"),
        (date(2026, 11, 29), "в воскресенье, 29 ноября", "on Sunday, 29 November"),
        (date(2026, 11, 30), "в понедельник, 30 ноября", "on Monday, 30 November"),
        (date(2026, 12, 1), "во вторник, 1 декабря", "on Tuesday, 1 December"),
        (date(2026, 12, 2), "в среду, 2 декабря", "on Wednesday, 2 December"),
    ],
)
def test_day_on(day: date, russian: str, english: str) -> None:
    assert day_on(day, TODAY, "ru") == russian
    assert day_on(day, TODAY, "en") == english


@pytest.mark.parametrize(
    ("day", "russian", "english"),
    [
        (date(2026, 11, 23), "на сегодня, 23 ноября", "for today, 23 November"),
        (date(2026, 11, 24), "на завтра, 24 ноября", "for tomorrow, 24 November"),
        (date(2026, 11, 25), "на послезавтра, 25 ноября", "for Wednesday, 25 November"),
        (date(2026, 11, 27), "на пятницу, 27 ноября", "for Friday, 27 November"),
        (date(2026, 11, 29), "на воскресенье, 29 ноября", "for Sunday, 29 November"),
        (date(2026, 12, 1), "на вторник, 1 декабря", "for Tuesday, 1 December"),
        (date(2026, 12, 2), "на среду, 2 декабря", "for Wednesday, 2 December"),
    ],
)
def test_day_for(day: date, russian: str, english: str) -> None:
    assert day_for(day, TODAY, "ru") == russian
    assert day_for(day, TODAY, "en") == english


def test_a_day_may_be_given_as_an_iso_string() -> None:
    assert day_on("2026-11-24", TODAY, "ru") == "завтра, 24 ноября"
    assert day_for("2026-11-27", TODAY, "en") == "for Friday, 27 November"


@pytest.mark.parametrize(
    ("day", "russian", "english"),
    [(date(2026, 11, 24), "вт, 24 ноября", "Tue, 24 November"), (date(2027, 1, 3), "вс, 3 января", "Sun, 3 January")],
)
def test_day_short(day: date, russian: str, english: str) -> None:
    assert day_short(day, "ru") == russian
    assert day_short(day, "en") == english


@pytest.mark.parametrize(
    ("low", "high", "language", "text"),
    [
        (2000, 3500, "ru", "от 2000 до 3500 ₽"),
        (2000, 3500, "en", "2000–3500 ₽"),
        (1800, 1800, "ru", "1800 ₽"),
        (1800, 1800, "en", "1800 ₽"),
        (1800, 0, "ru", "1800 ₽"),
    ],
)
def test_price(low: int, high: int, language: Language, text: str) -> None:
    assert price({"price_min": low, "price_max": high}, language) == text


@pytest.mark.parametrize(
    ("title", "accusative", "english"),
    [
        ("Мужская стрижка", "мужскую стрижку", "men's haircut"),
        ("Женская стрижка", "женскую стрижку", "women's haircut"),
        ("Коррекция бровей", "коррекцию бровей", "eyebrow shaping"),
        ("Укладка", "укладку", "styling"),
        ("Маникюр", "маникюр", "manicure"),
        ("Маникюр с покрытием гель-лак", "маникюр с покрытием гель-лак", "manicure with gel polish"),
        ("Окрашивание волос", "окрашивание волос", "hair colouring"),
        ("Наращивание ресниц", "наращивание ресниц", "eyelash extensions"),
    ],
)
def test_a_service_in_the_accusative(title: str, accusative: str, english: str) -> None:
    assert service_acc(title, "ru") == accusative
    assert service_acc(title, "en") == english


@pytest.mark.parametrize(
    ("title", "genitive"),
    [("Мужская стрижка", "мужской стрижки"), ("Педикюр", "педикюра"), ("Коррекция бровей", "коррекции бровей")],
)
def test_a_service_in_the_genitive(title: str, genitive: str) -> None:
    assert service_gen(title, "ru") == genitive


def test_a_service_without_an_english_name_keeps_its_title() -> None:
    assert service_title("Массаж", "en") == "Массаж"
    assert service_title("Маникюр", "ru") == "Маникюр"


@pytest.mark.parametrize(
    ("name", "case", "inflected"),
    [
        ("Анна Смирнова", "datv", "Анне Смирновой"),
        ("Мария Иванова", "datv", "Марии Ивановой"),
        ("Олег Петров", "datv", "Олегу Петрову"),
        ("Екатерина Соколова", "datv", "Екатерине Соколовой"),
        ("Ольга Кузнецова", "datv", "Ольге Кузнецовой"),
        ("Анна Смирнова", "gent", "Анны Смирновой"),
        ("Олег Петров", "gent", "Олега Петрова"),
        ("Анна Смирнова", "nomn", "Анна Смирнова"),
    ],
)
def test_staff_names_in_russian_cases(name: str, case: str, inflected: str) -> None:
    assert person(name, case, "ru") == inflected


@pytest.mark.parametrize(
    ("name", "latin"),
    [
        ("Анна Смирнова", "Anna Smirnova"),
        ("Олег Петров", "Oleg Petrov"),
        ("Екатерина Соколова", "Ekaterina Sokolova"),
        ("Ольга Кузнецова", "Olga Kuznetsova"),
        ("John Smith", "John Smith"),
    ],
)
def test_staff_names_in_english_are_in_latin_letters(name: str, latin: str) -> None:
    assert person(name, "datv", "en") == latin


@pytest.mark.parametrize(
    ("name", "language", "first"),
    [("Анна Смирнова", "ru", "Анна"), ("Анна Смирнова", "en", "Anna"), ("Олег Петров", "en", "Oleg")],
)
def test_first_name(name: str, language: Language, first: str) -> None:
    assert first_name(name, language) == first


@pytest.mark.parametrize(
    ("hour", "russian", "english"),
    [
        (0, "Здравствуйте", "Hello"),
        (4, "Здравствуйте", "Hello"),
        (5, "Доброе утро", "Good morning"),
        (11, "Доброе утро", "Good morning"),
        (12, "Добрый день", "Good afternoon"),
        (17, "Добрый день", "Good afternoon"),
        (18, "Добрый вечер", "Good evening"),
        (22, "Добрый вечер", "Good evening"),
        (23, "Здравствуйте", "Hello"),
    ],
)
def test_greeting_by_moscow_time_of_day(hour: int, russian: str, english: str) -> None:
    now = datetime(2026, 11, 23, hour, 30, tzinfo=MOSCOW)
    assert time_of_day_greeting(now, "ru") == russian
    assert time_of_day_greeting(now, "en") == english


@pytest.mark.parametrize(
    ("items", "language", "text"),
    [
        ([], "ru", ""),
        (["10:00"], "ru", "10:00"),
        (["10:00", "11:00"], "ru", "10:00 или 11:00"),
        (["10:00", "11:00", "12:00"], "ru", "10:00, 11:00 или 12:00"),
        (["10:00", "11:00", "12:00"], "en", "10:00, 11:00 or 12:00"),
    ],
)
def test_join_or(items: list[str], language: Language, text: str) -> None:
    assert join_or(items, language) == text
