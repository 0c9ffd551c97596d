"""Catalog services and staff in a message: any case, typos, diminutives, English."""

from __future__ import annotations

import pytest

from services.worker.receptionist.understanding.matching import (
    ServiceMatch,
    ServiceMatcher,
    StaffMatch,
    StaffMatcher,
    title_lemmas,
    transliterate,
)
from services.worker.receptionist.understanding.text import normalize, tokenize
from shared.booking.models import Service

HAIRCUTS = {"Мужская стрижка", "Женская стрижка"}
BROWS = {"Коррекция бровей", "Окрашивание бровей"}
GEL = "Маникюр с покрытием гель-лак"


def services_in(matcher: ServiceMatcher, text: str) -> ServiceMatch:
    return matcher.match(tokenize(normalize(text)))


def staff_in(matcher: StaffMatcher, text: str) -> StaffMatch:
    return matcher.match(tokenize(normalize(text)))


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("маникюр", "Маникюр"),
        ("маникюром", "Маникюр"),
        ("Manicure", "Маникюр"),
        ("педикюра", "Педикюр"),
        ("мужскую стрижку", "Мужская стрижка"),
        ("женскую стрижку", "Женская стрижка"),
        ("покрасить волосы", "Окрашивание волос"),
        ("окрашиванием волос", "Окрашивание волос"),
        ("коррекцию бровей", "Коррекция бровей"),
        ("окрашивание бровей", "Окрашивание бровей"),
        ("наращиванием ресниц", "Наращивание ресниц"),
        ("ресницы", "Наращивание ресниц"),
        ("укладку", "Укладка"),
        ("маникюр с покрытием", GEL),
        ("гель-лак", GEL),
        ("гель лак", GEL),
        ("шеллак", GEL),
        ("хочу на стрижку к Олегу барберу", "Мужская стрижка"),
    ],
)
def test_a_service_in_any_grammatical_case(service_matcher: ServiceMatcher, text: str, title: str) -> None:
    match = services_in(service_matcher, text)
    assert match.found is not None
    assert match.found.title == title
    assert not match.ambiguous


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("маникур", "Маникюр"),
        ("маникюрр", "Маникюр"),
        ("педикур", "Педикюр"),
        ("окрашевание волос", "Окрашивание волос"),
        ("коррекцыя бровей", "Коррекция бровей"),
    ],
)
def test_a_misspelt_service_is_corrected(service_matcher: ServiceMatcher, text: str, title: str) -> None:
    match = services_in(service_matcher, text)
    assert match.found is not None
    assert match.found.title == title


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("men's haircut", "Мужская стрижка"),
        ("haircut for men", "Мужская стрижка"),
        ("women's haircut", "Женская стрижка"),
        ("pedicure", "Педикюр"),
        ("pedicures", "Педикюр"),
        ("MANICURE", "Маникюр"),
        ("eyebrow tinting", "Окрашивание бровей"),
        ("eyebrow shaping", "Коррекция бровей"),
        ("hair colouring", "Окрашивание волос"),
        ("gel polish", GEL),
        ("eyelash extensions", "Наращивание ресниц"),
    ],
)
def test_a_service_in_english(service_matcher: ServiceMatcher, text: str, title: str) -> None:
    match = services_in(service_matcher, text)
    assert match.found is not None
    assert match.found.title == title


@pytest.mark.parametrize(
    ("text", "titles"),
    [
        ("стрижкой", HAIRCUTS),
        ("стрижка", HAIRCUTS),
        ("стришка", HAIRCUTS),
        ("haircut", HAIRCUTS),
        ("хочу на брови", BROWS),
        ("brows", BROWS),
        ("маникюр и педикюр", {"Маникюр", "Педикюр"}),
    ],
)
def test_a_word_several_services_share_is_ambiguous(
    service_matcher: ServiceMatcher, text: str, titles: set[str]
) -> None:
    match = services_in(service_matcher, text)
    assert match.ambiguous
    assert match.found is None
    assert {service.title for service in match.services} == titles


@pytest.mark.parametrize("text", ["массаж", "хочу на массаж", "massage", "что-то с волосами", "здравствуйте", ""])
def test_nothing_the_catalog_has(service_matcher: ServiceMatcher, text: str) -> None:
    match = services_in(service_matcher, text)
    assert match.services == ()
    assert match.tokens == frozenset()


def test_the_tokens_that_named_the_service_are_reported(service_matcher: ServiceMatcher) -> None:
    tokens = tokenize(normalize("Запишите на мужскую стрижку к Олегу"))
    match = service_matcher.match(tokens)
    assert sorted(tokens[index].text for index in match.tokens) == ["мужскую", "стрижку"]


def test_a_match_among_offered_services_picks_from_them(
    service_matcher: ServiceMatcher, demo_services: list[Service]
) -> None:
    women = [service for service in demo_services if service.title == "Женская стрижка"]
    match = service_matcher.match(tokenize(normalize("стрижку")), among=women)
    assert match.found is not None
    assert match.found.title == "Женская стрижка"


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("Мужская стрижка", "Мужская стрижка"),
        ("мужская стрижка", "Мужская стрижка"),
        ("мужскую стрижку", "Мужская стрижка"),
        ("Маникюр", "Маникюр"),
        (GEL, GEL),
        ("1005", "Маникюр"),
        ("pedicure", "Педикюр"),
    ],
)
def test_find_a_service_by_title_id_or_words(service_matcher: ServiceMatcher, query: str, title: str) -> None:
    match = service_matcher.find(query)
    assert match.found is not None
    assert match.found.title == title


def test_title_lemmas_drop_prepositions_and_split_hyphens() -> None:
    assert title_lemmas(GEL) == ("маникюр", "покрытие", "гель", "лак")
    assert title_lemmas("Коррекция бровей") == ("коррекция", "бровь")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("к Ане", "Анна Смирнова"),
        ("к Анне", "Анна Смирнова"),
        ("у Анны", "Анна Смирнова"),
        ("с Анной", "Анна Смирнова"),
        ("у Анечки", "Анна Смирнова"),
        ("к Смирновой", "Анна Смирнова"),
        ("у Маши", "Мария Иванова"),
        ("к Марии", "Мария Иванова"),
        ("Марией", "Мария Иванова"),
        ("к Машеньке", "Мария Иванова"),
        ("к Ивановой", "Мария Иванова"),
        ("у Олега", "Олег Петров"),
        ("с Олегом", "Олег Петров"),
        ("с Петровым", "Олег Петров"),
        ("к Олегу Петрову", "Олег Петров"),
        ("к Екатерине", "Екатерина Соколова"),
        ("к Кате", "Екатерина Соколова"),
        ("с Соколовой", "Екатерина Соколова"),
        ("к Оле", "Ольга Кузнецова"),
        ("к Ольге", "Ольга Кузнецова"),
        ("к Кузнецовой", "Ольга Кузнецова"),
    ],
)
def test_staff_in_any_case_and_by_diminutive(staff_matcher: StaffMatcher, text: str, name: str) -> None:
    match = staff_in(staff_matcher, text)
    assert match.found is not None
    assert match.found.name == name


@pytest.mark.parametrize(("text", "name"), [("к Марие", "Мария Иванова"), ("у Ольгы", "Ольга Кузнецова")])
def test_a_misspelt_staff_name_is_corrected(staff_matcher: StaffMatcher, text: str, name: str) -> None:
    match = staff_in(staff_matcher, text)
    assert match.found is not None
    assert match.found.name == name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("with Anna", "Анна Смирнова"),
        ("Anna", "Анна Смирнова"),
        ("Kate", "Екатерина Соколова"),
        ("with Katya", "Екатерина Соколова"),
        ("with Maria", "Мария Иванова"),
        ("with Masha", "Мария Иванова"),
        ("with Oleg", "Олег Петров"),
        ("with Olga", "Ольга Кузнецова"),
    ],
)
def test_staff_in_latin_letters(staff_matcher: StaffMatcher, text: str, name: str) -> None:
    match = staff_in(staff_matcher, text)
    assert match.found is not None
    assert match.found.name == name


@pytest.mark.parametrize("text", ["хочу на маникюр", "к мастеру", "with anyone", ""])
def test_no_staff_named(staff_matcher: StaffMatcher, text: str) -> None:
    assert staff_in(staff_matcher, text).staff == ()


def test_skipped_tokens_are_not_read_as_staff(staff_matcher: StaffMatcher) -> None:
    tokens = tokenize(normalize("Ольга"))
    assert staff_matcher.match(tokens).found is not None
    assert staff_matcher.match(tokens, skip=frozenset({0})).staff == ()


@pytest.mark.parametrize(
    ("query", "name"),
    [("Анна Смирнова", "Анна Смирнова"), ("2003", "Олег Петров"), ("Марии", "Мария Иванова")],
)
def test_find_staff_by_name_or_id(staff_matcher: StaffMatcher, query: str, name: str) -> None:
    match = staff_matcher.find(query)
    assert match.found is not None
    assert match.found.name == name


@pytest.mark.parametrize(
    ("russian", "latin"),
    [
        ("Анна Смирнова", "Anna Smirnova"),
        ("Олег Петров", "Oleg Petrov"),
        ("Екатерина Соколова", "Ekaterina Sokolova"),
        ("Ольга Кузнецова", "Olga Kuznetsova"),
        ("Щука Жукова", "Shchuka Zhukova"),
        ("мария", "mariya"),
    ],
)
def test_transliteration_for_english_replies(russian: str, latin: str) -> None:
    assert transliterate(russian) == latin
