"""One client message read into facts: intents, service, staff, day, time, choice, name, language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from typing import Protocol

import pytest

from services.worker.receptionist.understanding.matching import ServiceMatcher, StaffMatcher
from services.worker.receptionist.understanding.parse import Understanding, understand
from services.worker.receptionist.understanding.text import Language, detect_language, normalize, tokenize
from shared.booking.models import Service

TODAY = date(2026, 11, 23)
"""A Monday: "завтра" is Tuesday the 24th, "в четверг" the 26th, "в пятницу" the 27th."""


class Read(Protocol):
    def __call__(
        self, text: str, *, expecting_name: bool = False, among_services: Sequence[Service] | None = None
    ) -> Understanding: ...


@pytest.fixture
def read(service_matcher: ServiceMatcher, staff_matcher: StaffMatcher) -> Read:
    def reader(
        text: str, *, expecting_name: bool = False, among_services: Sequence[Service] | None = None
    ) -> Understanding:
        return understand(
            text, TODAY, service_matcher, staff_matcher, expecting_name=expecting_name, among_services=among_services
        )

    return reader


def titles(understanding: Understanding) -> set[str]:
    return {service.title for service in understanding.services}


def staff_names(understanding: Understanding) -> set[str]:
    return {member.name for member in understanding.staff}


# --- intents ---


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("сколько стоит маникюр?", "prices"),
        ("how much is a pedicure?", "prices"),
        ("какие у вас цены?", "prices"),
        ("what are your prices?", "prices"),
        ("на когда я записана?", "my_bookings"),
        ("когда я записан?", "my_bookings"),
        ("when is my appointment?", "my_bookings"),
        ("отмените мою запись", "cancel"),
        ("хочу отменить запись на завтра", "cancel"),
        ("can I cancel?", "cancel"),
        ("перенесите мою запись на четверг на 17:00", "reschedule"),
        ("can I reschedule?", "reschedule"),
        ("когда работает Мария?", "staff_schedule"),
        ("when does Oleg work?", "staff_schedule"),
        ("что такое коррекция бровей?", "explain"),
        ("что входит в педикюр?", "explain"),
        ("what is eyebrow shaping?", "explain"),
        ("хочу записаться на маникюр", "book"),
        ("Can I book a manicure?", "book"),
        ("да", "agree"),
        ("давайте", "agree"),
        ("Да, давайте", "agree"),
        ("ок", "agree"),
        ("yes", "agree"),
        ("sure", "agree"),
        ("нет", "decline"),
        ("no", "decline"),
        ("Здравствуйте", "greeting"),
        ("Добрый вечер", "greeting"),
        ("Hello", "greeting"),
    ],
)
def test_intents(read: Read, text: str, intent: str) -> None:
    assert intent in read(text).intents


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("сколько длится педикюр?", "prices"),
        ("how long is a pedicure?", "prices"),
        ("да", "cancel"),
        ("спасибо!", "book"),
        ("когда работает Мария?", "prices"),
        ("на когда я записана?", "cancel"),
    ],
)
def test_intents_not_read_into_a_message(read: Read, text: str, intent: str) -> None:
    assert intent not in read(text).intents


@pytest.mark.parametrize(
    ("text", "thanks", "closing"),
    [
        ("спасибо!", True, False),
        ("Спасибо большое", True, False),
        ("благодарю", True, False),
        ("спс", True, False),
        ("Thank you!", True, False),
        ("thanks!", True, False),
        ("это всё", False, True),
        ("Это все", False, True),
        ("больше ничего", False, True),
        ("больше ничего не надо", False, True),
        ("nothing else", False, True),
        ("спасибо, это всё", True, True),
        ("Thanks, that's all", True, True),
        ("хочу на маникюр", False, False),
        ("все отлично, записывайте", False, False),
    ],
)
def test_thanks_and_closing(read: Read, text: str, thanks: bool, closing: bool) -> None:
    result = read(text)
    assert (result.thanks, result.closing) == (thanks, closing)


# --- the whole booking request ---


@pytest.mark.parametrize(
    ("text", "service", "staff", "day", "moment"),
    [
        ("Запишите меня к Ане на маникюр", "Маникюр", "Анна Смирнова", None, None),
        ("Хочу к Марие на педикюр", "Педикюр", "Мария Иванова", None, None),
        (
            "Добрый вечер! Хочу записаться на маникюр завтра в 15",
            "Маникюр",
            None,
            date(2026, 11, 24),
            time(15),
        ),
        ("Можно к Анне завтра в 3 часа дня?", None, "Анна Смирнова", date(2026, 11, 24), time(15)),
        ("Can I book a manicure tomorrow? I'm Max", "Маникюр", None, date(2026, 11, 24), None),
        ("Can I book with Anna on Friday at 3?", None, "Анна Смирнова", date(2026, 11, 27), time(15)),
        ("перенесите мою запись на четверг на 17:00", None, None, date(2026, 11, 26), time(17)),
        ("I'd like eyebrow tinting on Nov 25 at 6:30pm", "Окрашивание бровей", None, date(2026, 11, 25), time(18, 30)),
    ],
)
def test_a_booking_request_in_one_message(
    read: Read, text: str, service: str | None, staff: str | None, day: date | None, moment: time | None
) -> None:
    result = read(text)
    assert titles(result) == ({service} if service else set())
    assert staff_names(result) == ({staff} if staff else set())
    assert result.day == day
    assert result.exact_time == moment


def test_a_greeting_is_not_an_evening_window(read: Read) -> None:
    result = read("Добрый вечер! Можно завтра?")
    assert (result.exact_time, result.time_from, result.time_to) == (None, None, None)
    assert not result.has_time


@pytest.mark.parametrize(
    ("text", "start", "end", "shift"),
    [
        ("завтра после 18", time(18), None, 0),
        ("можно до обеда?", None, time(13), 0),
        ("лучше вечером", time(18), time(23, 59), 0),
        ("after 5pm", time(17), None, 0),
        ("с 14 до 16", time(14), time(16), 0),
        ("а можно на час позже?", None, None, 60),
    ],
)
def test_windows_and_shifts(read: Read, text: str, start: time | None, end: time | None, shift: int) -> None:
    result = read(text)
    assert (result.time_from, result.time_to, result.shift_minutes) == (start, end, shift)


def test_the_same_day_is_a_reference(read: Read) -> None:
    result = read("а можно в тот же день в 15?")
    assert result.same_day is True
    assert result.day is None
    assert result.exact_time == time(15)


# --- services ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("хочу на стрижку", {"Мужская стрижка", "Женская стрижка"}),
        ("запишите со стрижкой", {"Мужская стрижка", "Женская стрижка"}),
        ("хочу на брови", {"Коррекция бровей", "Окрашивание бровей"}),
        ("хочу на мужскую стрижку", {"Мужская стрижка"}),
        ("хочу покрасить волосы", {"Окрашивание волос"}),
        ("маникюр с покрытием", {"Маникюр с покрытием гель-лак"}),
        ("хочу на маникур", {"Маникюр"}),
    ],
)
def test_services_named(read: Read, text: str, expected: set[str]) -> None:
    result = read(text)
    assert titles(result) == expected
    assert result.unknown_service is None
    assert (result.service is not None) == (len(expected) == 1)


def test_a_staff_member_narrows_an_ambiguous_service_to_theirs(read: Read) -> None:
    assert titles(read("хочу на стрижку к Олегу")) == {"Мужская стрижка"}


def test_a_choice_among_offered_services(read: Read, demo_services: list[Service]) -> None:
    offered = [service for service in demo_services if service.title in ("Мужская стрижка", "Женская стрижка")]
    assert titles(read("женскую", among_services=offered)) == {"Женская стрижка"}
    assert titles(read("педикюр", among_services=offered)) == {"Педикюр"}


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("хочу на массаж", "массаж"),
        ("сколько стоит массаж?", "массаж"),
        ("у вас есть массаж?", "массаж"),
        ("how much is a massage?", "massage"),
        ("do you do massage?", "massage"),
    ],
)
def test_a_service_the_catalog_lacks_is_reported(read: Read, text: str, unknown: str) -> None:
    result = read(text)
    assert result.services == ()
    assert result.unknown_service == unknown


@pytest.mark.parametrize(
    "text",
    [
        "хочу на завтра",
        "можно на 10?",
        "хочу к Ане",
        "на когда я записана?",
        "сколько стоит маникюр?",
        "Can I book with Anna on Friday at 3?",
        "when is my appointment?",
    ],
)
def test_no_unknown_service_when_none_was_asked_for(read: Read, text: str) -> None:
    assert read(text).unknown_service is None


# --- staff and the client's own name ---


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("когда работает Мария?", "Мария Иванова"),
        ("к Ане", "Анна Смирнова"),
        ("к Анне", "Анна Смирнова"),
        ("у Маши", "Мария Иванова"),
        ("к Марии", "Мария Иванова"),
        ("к Марие", "Мария Иванова"),
        ("у Олега", "Олег Петров"),
        ("with Anna", "Анна Смирнова"),
        ("Kate", "Екатерина Соколова"),
        ("Ольга", "Ольга Кузнецова"),
    ],
)
def test_staff_named(read: Read, text: str, name: str) -> None:
    assert staff_names(read(text)) == {name}


@pytest.mark.parametrize(
    ("text", "client", "staff"),
    [
        ("Меня зовут Ольга", "Ольга", set()),
        ("меня зовут Ольга", "Ольга", set()),
        ("Меня зовут Ольга, запишите на маникюр", "Ольга", set()),
        ("Меня зовут Анна, хочу к Марии на маникюр", "Анна", {"Мария Иванова"}),
        ("I'm Olga", "Olga", set()),
    ],
)
def test_the_clients_own_name_is_not_staff(read: Read, text: str, client: str, staff: set[str]) -> None:
    result = read(text)
    assert result.client_name == client
    assert staff_names(result) == staff


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("меня зовут Ольга", "Ольга"),
        ("Меня зовут Ольга Петрова", "Ольга Петрова"),
        ("Я Ольга", "Ольга"),
        ("I'm John", "John"),
        ("My name is Kate", "Kate"),
        ("Can I book a manicure tomorrow? I'm Max", "Max"),
        ("Hi, I'm Max. Can I book a haircut?", "Max"),
    ],
)
def test_a_client_introduces_themselves(read: Read, text: str, name: str) -> None:
    assert read(text).client_name == name


@pytest.mark.parametrize(
    ("text", "name"),
    [("Ольга", "Ольга"), ("ольга", "Ольга"), ("Ольга Петрова", "Ольга Петрова"), ("Kate", "Kate"), ("Max", "Max")],
)
def test_a_bare_name_when_we_asked_for_one(read: Read, text: str, name: str) -> None:
    result = read(text, expecting_name=True)
    assert result.client_name == name
    assert result.staff == ()


@pytest.mark.parametrize("text", ["да", "завтра", "маникюр", "2", "хочу на маникюр"])
def test_not_a_name_even_when_we_asked_for_one(read: Read, text: str) -> None:
    assert read(text, expecting_name=True).client_name is None


@pytest.mark.parametrize(
    "text",
    ["Ольга", "Kate", "я хочу на маникюр", "I'm free tomorrow", "Я записана на завтра?", "хочу к Ане"],
)
def test_no_name_when_none_was_given(read: Read, text: str) -> None:
    assert read(text).client_name is None


# --- choices among offered options ---


@pytest.mark.parametrize(
    ("text", "ordinal"),
    [
        ("первый", 1),
        ("первое", 1),
        ("давайте первый", 1),
        ("второе", 2),
        ("второй", 2),
        ("второй вариант", 2),
        ("третий вариант", 3),
        ("последний", -1),
        ("the first one", 1),
        ("first", 1),
        ("the second one", 2),
        ("the last one", -1),
        ("вариант 3", 3),
        ("номер 2", 2),
        ("option 2", 2),
    ],
)
def test_ordinals(read: Read, text: str, ordinal: int) -> None:
    assert read(text).ordinal == ordinal


@pytest.mark.parametrize(
    ("text", "number"),
    [("2", 2), ("3", 3), ("давайте 2", 2), ("2 пожалуйста", 2), ("давайте 15", 15)],
)
def test_a_bare_number(read: Read, text: str, number: int) -> None:
    result = read(text)
    assert result.number == number
    assert result.ordinal is None


@pytest.mark.parametrize("text", ["давайте в 15", "хочу на маникюр", "25.11", "вариант 3"])
def test_no_bare_number(read: Read, text: str) -> None:
    assert read(text).number is None


# --- language and text ---


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Привет", "ru"),
        ("Хочу на маникюр", "ru"),
        ("Hello!", "en"),
        ("how much is a pedicure?", "en"),
        ("Hi, можно завтра?", "ru"),
        ("OK", "en"),
        ("15:00", None),
        ("👍", None),
        ("", None),
    ],
)
def test_language_detection(text: str, language: Language | None) -> None:
    assert detect_language(text) == language


def test_understanding_carries_the_language(read: Read) -> None:
    assert read("сколько стоит маникюр?").language == "ru"
    assert read("how much is a pedicure?").language == "en"
    assert read("2").language is None


def test_normalizing_keeps_offsets_into_the_original() -> None:
    original = "Ёлка — «Тест»"
    normalized = normalize(original)
    assert normalized == 'елка - "тест"'
    assert len(normalized) == len(original)


def test_tokens_keep_clocks_dates_and_hyphenated_words_whole() -> None:
    assert [token.text for token in tokenize(normalize("В 15:00, 25.11 гель-лак men's"))] == [
        "в",
        "15:00",
        "25.11",
        "гель-лак",
        "men's",
    ]
