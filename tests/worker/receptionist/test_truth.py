"""What an LLM may tell a client: only changes the backend confirmed, only times the backend gave."""

from __future__ import annotations

import pytest

from services.worker.receptionist.commands import Step
from services.worker.receptionist.truth import unbacked_times, unconfirmed_claim

SEARCHED = Step(name="SEARCH_SLOTS", outcome="slots", data={"slots": [{"date": "2026-11-27", "time": "15:00"}]})
BOOKED = Step(name="CREATE_BOOKING", outcome="booked", data={"booking": {"time": "15:00"}})
TAKEN = Step(name="CREATE_BOOKING", outcome="slot_taken", data={"time": "15:00", "alternatives": []})


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("Готово! Вы записаны на маникюр в пятницу в 15:00.", "booked"),
        ("Записала вас на пятницу.", "booked"),
        ("You are booked for Friday at 15:00, not Saturday.", "booked"),
        ("I booked you for Friday.", "booked"),
        ("Your appointment is confirmed for Friday.", "booked"),
        ("Забронировала для вас пятницу.", "booked"),
        ("Your booking is cancelled, don't worry.", "cancelled"),
        ("Ваша запись отменена.", "cancelled"),
        ("Ваш визит перенесён на четверг.", "rescheduled"),
        ("Перенесла вашу запись на четверг.", "rescheduled"),
    ],
)
def test_a_claim_without_a_confirming_step_is_caught(reply: str, kind: str) -> None:
    assert unconfirmed_claim(reply, [SEARCHED, TAKEN]) == kind


@pytest.mark.parametrize(
    "reply",
    [
        "К сожалению, это время уже занято, запись не создана.",
        "Sorry, you are not booked: that time was just taken.",
        "I couldn't cancel it: the booking system did not answer.",
        "Записать вас на 15:00?",
    ],
)
def test_saying_that_nothing_happened_is_not_a_claim(reply: str) -> None:
    assert unconfirmed_claim(reply, [TAKEN]) is None


def test_a_confirmed_booking_may_be_told() -> None:
    assert unconfirmed_claim("Готово! Вы записаны на пятницу в 15:00.", [SEARCHED, BOOKED]) is None


def test_times_must_come_from_the_backend_the_offer_or_the_client() -> None:
    assert unbacked_times("Есть 15:00 и 16:30.", [SEARCHED], set()) == {"16:30"}
    assert unbacked_times("Есть 15:00 и 16:30.", [SEARCHED], {"16:30"}) == set()
    assert unbacked_times("Записать на 9:00?", [], {"09:00"}) == set()
