"""A client's turn through the RQ-free pipeline, in-process against the suite's Redis and a real salon.

The crash tests stop a turn the way ``kill -9`` stops a work horse (an exception the pipeline does
not catch) at the worst moment, then run the batch again as RQ's retry would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis
import structlog
from structlog.testing import capture_logs

from services.worker.pipeline import answer_batch
from shared import redis_keys
from shared.booking.catalog import DEMO_CATALOG, load_catalog
from shared.booking.local import LocalBackend
from shared.booking.models import Booking, NewBooking
from shared.errors import BookingRefused
from tests.support.dialogues import CORPUS_NOW, SALON_ZONE
from tests.support.inprocess import COMPANY, TurnHarness, local_backend, local_visits, turn_settings

CLIENT = "79005550101"
FRIDAY_15 = datetime(2026, 11, 27, 15, 0, tzinfo=SALON_ZONE)
THURSDAY_17 = datetime(2026, 11, 26, 17, 0, tzinfo=SALON_ZONE)


class WorkerKilled(BaseException):
    """Not an Exception: nothing in the pipeline catches it, as nothing survives a SIGKILL."""


class DiesAfterTheBackendAnswers(LocalBackend):
    """The real salon; the worker dies right after the backend confirmed a change, before anything else."""

    die_after: str = ""

    def _maybe_die(self, method: str) -> None:
        if self.die_after == method:
            self.die_after = ""
            raise WorkerKilled(method)

    def create_booking(self, booking: NewBooking) -> Booking:
        made = super().create_booking(booking)
        self._maybe_die("create_booking")
        return made

    def cancel_booking(self, booking_id: int, phone: str) -> None:
        super().cancel_booking(booking_id, phone)
        self._maybe_die("cancel_booking")

    def reschedule_booking(self, booking_id: int, phone: str, start: datetime, staff_id: int | None = None) -> Booking:
        moved = super().reschedule_booking(booking_id, phone, start, staff_id)
        self._maybe_die("reschedule_booking")
        return moved


@pytest.fixture
def salon(tmp_path: Path) -> Iterator[DiesAfterTheBackendAnswers]:
    backend = DiesAfterTheBackendAnswers(tmp_path / "salon.sqlite", load_catalog(DEMO_CATALOG), CORPUS_NOW)
    yield backend
    backend.close()


@pytest.fixture
def harness(redis_client: redis.Redis, redis_url: str, salon: LocalBackend) -> TurnHarness:
    return TurnHarness(redis_client, turn_settings(redis_url), salon)


def my_visits(salon: LocalBackend) -> list[tuple[int, datetime]]:
    return [(visit.service, visit.at) for visit in local_visits(salon) if visit.phone == CLIENT]


def book_for_me(salon: LocalBackend, service: int, staff: int, start: datetime) -> Booking:
    return salon.create_booking(
        NewBooking(service_id=service, staff_id=staff, start=start, client_phone=CLIENT, client_name="Ольга")
    )


def test_a_worker_killed_between_the_backend_booking_and_the_reply_leaves_one_booking_and_one_confirmation(
    harness: TurnHarness, salon: DiesAfterTheBackendAnswers
) -> None:
    batch = harness.batch(CLIENT, ["Запишите меня к Марии на маникюр в пятницу в 15:00"], push_name="Ольга")
    salon.die_after = "create_booking"
    with pytest.raises(WorkerKilled):
        answer_batch(batch, harness.deps, last_attempt=False)
    assert my_visits(salon) == [(1005, FRIDAY_15)]
    assert harness.sender.sent == []

    retried = harness.batches.take(COMPANY, CLIENT).batch
    assert retried == batch, "the batch stays in flight until it is answered"
    answer_batch(retried, harness.deps, last_attempt=True)

    assert my_visits(salon) == [(1005, FRIDAY_15)]
    confirmations = [text for text in harness.sender.texts(CLIENT) if "Вы записаны" in text]
    assert len(confirmations) == 1
    assert harness.batches.take(COMPANY, CLIENT).outcome == "empty"


def test_a_worker_killed_after_cancelling_does_not_cancel_another_booking_on_the_retry(
    harness: TurnHarness, salon: DiesAfterTheBackendAnswers
) -> None:
    book_for_me(salon, 1005, 2002, FRIDAY_15)
    batch = harness.batch(CLIENT, ["Хочу отменить запись"])
    salon.die_after = "cancel_booking"
    with pytest.raises(WorkerKilled):
        answer_batch(batch, harness.deps, last_attempt=False)
    book_for_me(salon, 1001, 2001, THURSDAY_17)  # booked by the salon meanwhile; the retry must not touch it

    answer_batch(batch, harness.deps, last_attempt=True)
    assert my_visits(salon) == [(1001, THURSDAY_17)]
    assert sum("отменена" in text for text in harness.sender.texts(CLIENT)) == 1


def test_a_worker_killed_after_moving_a_booking_moves_it_once(
    harness: TurnHarness, salon: DiesAfterTheBackendAnswers
) -> None:
    book_for_me(salon, 1005, 2002, FRIDAY_15)
    batch = harness.batch(CLIENT, ["Перенесите мою запись на четверг на 17:00"])
    salon.die_after = "reschedule_booking"
    with pytest.raises(WorkerKilled):
        answer_batch(batch, harness.deps, last_attempt=False)
    answer_batch(batch, harness.deps, last_attempt=True)
    assert my_visits(salon) == [(1005, THURSDAY_17)]
    assert sum("перенесена" in text for text in harness.sender.texts(CLIENT)) == 1


def test_a_retry_after_the_decision_was_stored_replays_it_without_running_commands_again(
    harness: TurnHarness, salon: LocalBackend, redis_client: redis.Redis
) -> None:
    batch = harness.batch(CLIENT, ["Какие у вас цены?"])
    sends = 0
    real_send = harness.sender.send_text

    def dies_on_the_second_part(company_id: str, phone: str, text: str, key: str, **context: Any) -> dict[str, Any]:
        nonlocal sends
        sends += 1
        if sends == 2:
            raise WorkerKilled("between the reply's parts")
        return real_send(company_id, phone, text, key, **context)

    harness.sender.send_text = dies_on_the_second_part  # type: ignore[method-assign,assignment]
    with pytest.raises(WorkerKilled):
        answer_batch(batch, harness.deps, last_attempt=False)
    harness.sender.send_text = real_send  # type: ignore[method-assign]

    with capture_logs() as logs:
        answer_batch(batch, harness.deps, last_attempt=True)
    events = [entry["event"] for entry in logs]
    assert "Replaying the decision stored for this batch" in events
    assert "Command" not in events
    texts = harness.sender.texts(CLIENT)
    assert len(texts) == len(set(texts)) == 2, "each part once: the first is not sent again"


def test_every_command_is_logged_with_its_parameters_outcome_and_batch_id(harness: TurnHarness) -> None:
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        result = harness.say(CLIENT, "Хочу записаться на педикюр в среду", push_name="Анна")
    commands = [entry for entry in logs if entry["event"] == "Command"]
    assert [entry["command"] for entry in commands] == ["SEARCH_SLOTS"]
    assert commands[0]["params"] == {"service_name": "Педикюр", "date": "2026-11-25"}
    assert commands[0]["outcome"] == "slots"
    assert commands[0]["batch_id"]
    assert result.parts


def test_the_turn_writes_the_originals_memory_keys_with_their_ttls(
    harness: TurnHarness, redis_client: redis.Redis
) -> None:
    harness.say(CLIENT, "Хочу на маникюр в пятницу в 15:00")
    harness.say(CLIENT, "Меня зовут Ольга")
    ttls = {
        "dialog": redis_client.ttl(redis_keys.dialog(COMPANY, CLIENT)),
        "messages": redis_client.ttl(redis_keys.messages(COMPANY, CLIENT)),
        "client": redis_client.ttl(redis_keys.client(COMPANY, CLIENT)),
        "preferences": redis_client.ttl(redis_keys.preferences(COMPANY, CLIENT)),
    }
    assert redis_keys.dialog(COMPANY, CLIENT) == f"ai-admin:dialog:{COMPANY}:whatsapp:{CLIENT}"
    assert 23 * 3600 < ttls["dialog"] <= 24 * 3600
    assert 23 * 3600 < ttls["messages"] <= 24 * 3600
    assert 6 * 86400 < ttls["client"] <= 7 * 86400
    assert 89 * 86400 < ttls["preferences"] <= 90 * 86400
    assert redis_client.llen(redis_keys.messages(COMPANY, CLIENT)) == 4
    profile = json.loads(redis_client.get(redis_keys.client(COMPANY, CLIENT)) or b"{}")
    assert profile["name"] == "Ольга"


def test_a_group_chat_is_left_to_people(harness: TurnHarness, salon: LocalBackend) -> None:
    group = "120363025246125486@g.us"
    batch = harness.batch(group, ["Запишите на маникюр завтра в 15"])
    answer_batch(batch, harness.deps, last_attempt=True)
    assert harness.sender.sent == []
    assert local_visits(salon) == []


def test_a_local_salon_survives_a_reopen_with_its_bookings(tmp_path: Path) -> None:
    first = local_backend(tmp_path / "salon.sqlite")
    made = first.create_booking(
        NewBooking(service_id=1005, staff_id=2002, start=FRIDAY_15, client_phone=CLIENT, client_name="Ольга")
    )
    first.close()
    again = local_backend(tmp_path / "salon.sqlite")
    assert [booking.id for booking in again.client_bookings(CLIENT)] == [made.id]
    again.close()


class RefusesToCancel(LocalBackend):
    def cancel_booking(self, booking_id: int, phone: str) -> None:
        raise BookingRefused("запись нельзя отменить менее чем за 2 часа", code=None)


def test_a_refusal_from_the_backend_is_told_as_a_refusal_not_an_apology(
    tmp_path: Path, redis_client: redis.Redis, redis_url: str
) -> None:
    salon = RefusesToCancel(tmp_path / "salon.sqlite", load_catalog(DEMO_CATALOG), CORPUS_NOW)
    harness = TurnHarness(redis_client, turn_settings(redis_url), salon)
    book_for_me(salon, 1005, 2002, FRIDAY_15)
    reply = "\n".join(harness.say(CLIENT, "Хочу отменить запись").parts)
    assert "отказом" in reply and "менее чем за 2 часа" in reply
    assert "Извините, сейчас не получается ответить" not in reply
    assert my_visits(salon) == [(1005, FRIDAY_15)]
    salon.close()


def test_a_name_of_any_length_books_under_a_name_that_fits(harness: TurnHarness, salon: LocalBackend) -> None:
    harness.say(CLIENT, "Запишите на маникюр в пятницу в 15:00")
    harness.say(CLIENT, "Maximilian " + "a" * 300)
    [booking] = salon.client_bookings(CLIENT)
    assert booking.client_name.startswith("Maximilian") and len(booking.client_name) <= 60


def test_a_date_beyond_the_booking_horizon_is_answered_not_crashed_on(
    harness: TurnHarness, salon: LocalBackend
) -> None:
    for text in ("Хочу на коррекцию бровей 29.12.9999", "Запишите на маникюр на 1000 часов позже"):
        result = harness.say(CLIENT, text, push_name="Ольга")
        assert result.parts, f"no answer to {text!r}"
    assert local_visits(salon) == []
