"""YClients requests per booking dialogue, counted at the stand-in (issue 10: at most 6 with the cache warm).

The corpus' dialogues go through the worker's real turn and the real YClients backend (``YClientsRunner``)
against the YClients stand-in, which logs every request it gets. Counts only, never timings. What is
counted must still be the truth: free times are asked before a time is offered, or before a time that was
not offered is booked; a time offered earlier is booked straight away, the booking itself checked by YClients.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import redis

from shared.booking.catalog import DEMO_CATALOG
from tests.support.dialogues import Dialogue, TurnResult, load_corpus, phone_for, play
from tests.support.fakes.yclients import RequestLogEntry, YClientsStandIn
from tests.support.inprocess import YClientsRunner

CORPUS = load_corpus()
BOOKING_DIALOGUES = [d for d in CORPUS if d.expect.bookings and not d.given.bookings]
"""As the bench counts them (bench/turns.py): no booking at the start, one or more at the end."""
MAX_CALLS = 6
CATALOG_ENDPOINTS = {"company", "book_services", "book_staff"}
WRITES = {"POST", "PUT", "DELETE"}


class CountingRunner(YClientsRunner):
    """The corpus runner, keeping each turn's requests as the stand-in logged them."""

    turns: list[list[RequestLogEntry]]

    def start_dialogue(self, dialogue: Dialogue, phone: str) -> None:
        super().start_dialogue(dialogue, phone)  # resets the stand-in: its log holds this dialogue's requests only
        self.turns = []

    def say(self, phone: str, messages: list[str], push_name: str | None) -> TurnResult:
        already = len(self.standin.requests)
        result = super().say(phone, messages, push_name)
        self.turns.append(self.standin.requests[already:])
        return result


def endpoint(entry: RequestLogEntry) -> str:
    return entry.path.split("/", 1)[0]


def dialogue(dialogue_id: str) -> Dialogue:
    return next(d for d in CORPUS if d.id == dialogue_id)


@pytest.fixture(scope="module")
def standin() -> Iterator[YClientsStandIn]:
    server = YClientsStandIn(DEMO_CATALOG, rate_per_second=1_000, rate_per_minute=60_000)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def runner(redis_url: str, standin: YClientsStandIn) -> Iterator[CountingRunner]:
    """A worker's one backend on an empty Redis: the catalog cache starts cold."""
    client = redis.Redis.from_url(redis_url)
    runner = CountingRunner(client, redis_url, standin)
    yield runner
    runner.close()
    client.close()


def warm(runner: CountingRunner) -> None:
    """What every turn reads first (the catalog), read once: in the cache from then on."""
    runner.backend.company()
    runner.backend.services()
    runner.backend.staff()


def test_the_cold_catalog_costs_a_call_per_master_once_then_none(
    runner: CountingRunner, standin: YClientsStandIn
) -> None:
    verdict = play(runner, dialogue("ru-book-everything-in-one-turn"), phone_for(0))
    assert verdict.passed, "\n".join(verdict.failures + verdict.transcript)
    cold = Counter(endpoint(entry) for entry in standin.requests)
    # The company, the services, everyone, and what each of the 5 masters does (not one book_staff per service:
    # 10 of them); then the booking's own calls, with no book_check before book_record.
    assert cold == Counter(
        company=1, book_services=1 + 5, book_staff=1, records=1, book_times=1, book_record=1, record=1
    )
    assert sum(cold.values()) == 12

    verdict = play(runner, dialogue("ru-book-everything-in-one-turn"), phone_for(1))
    assert verdict.passed, "\n".join(verdict.failures + verdict.transcript)
    assert not {endpoint(entry) for entry in standin.requests} & CATALOG_ENDPOINTS


@pytest.mark.parametrize(
    "dialogue_id",
    [
        "ru-book-everything-in-one-turn",  # one turn, the master named
        "en-book-one-turn",  # one turn, two masters do it
        "ru-book-search-then-time-then-name",  # free times, a time, the name
        "en-book-the-second-one",  # free times, then one of those offered
        "ru-time-before-lunch",  # free times before noon, then a time among them that wasn't shown
    ],
)
def test_a_booking_dialogue_with_the_cache_warm_makes_at_most_six_calls(
    runner: CountingRunner, standin: YClientsStandIn, dialogue_id: str
) -> None:
    warm(runner)
    verdict = play(runner, dialogue(dialogue_id), phone_for(2))
    assert verdict.passed, "\n".join(verdict.failures + verdict.transcript)
    calls = [f"{entry.method} {endpoint(entry)}" for entry in standin.requests]
    assert len(calls) <= MAX_CALLS, calls
    assert "POST book_check" not in calls


def test_a_time_not_offered_is_asked_for_before_it_is_booked(runner: CountingRunner) -> None:
    warm(runner)
    verdict = play(runner, dialogue("en-book-one-turn"), phone_for(3))
    assert verdict.passed, "\n".join(verdict.failures + verdict.transcript)
    (turn,) = runner.turns
    # The client's bookings (never book twice), the first master's free times (free at 2pm: the second isn't
    # asked), the booking, and the booking as YClients holds it.
    assert [(entry.method, endpoint(entry), entry.status) for entry in turn] == [
        ("GET", "records", 200),
        ("GET", "book_times", 200),
        ("POST", "book_record", 201),
        ("GET", "record", 200),
    ]


def test_an_offered_time_taken_before_the_pick_is_refused_by_yclients_then_asked_afresh(
    runner: CountingRunner,
) -> None:
    warm(runner)
    verdict = play(runner, dialogue("ru-taken-between-offer-and-pick"), phone_for(4))
    assert verdict.passed, "\n".join(verdict.failures + verdict.transcript)
    offer, taken, booked = ([(entry.method, endpoint(entry), entry.status) for entry in turn] for turn in runner.turns)
    assert offer == [("GET", "book_times", 200)]
    # Booked straight away, since it was offered; YClients refuses it (433), nothing is claimed, and what is free
    # now is asked again rather than taken from the offer.
    assert taken == [("GET", "records", 200), ("POST", "book_record", 422), ("GET", "book_times", 200)]
    assert booked == [("GET", "records", 200), ("POST", "book_record", 201), ("GET", "record", 200)]


def test_the_corpus_booking_dialogues_average_at_most_six_calls_and_no_turn_asks_twice(
    runner: CountingRunner, standin: YClientsStandIn
) -> None:
    warm(runner)
    counts: dict[str, int] = {}
    for index, each in enumerate(BOOKING_DIALOGUES):
        verdict = play(runner, each, phone_for(100 + index))
        assert verdict.passed, "\n".join([each.id, *verdict.failures, *verdict.transcript])
        counts[each.id] = len(standin.requests)
        for turn in runner.turns:
            # Within a turn a read is repeated only after the turn changed the book (a booking read back).
            seen: set[tuple[str, str, str]] = set()
            for entry in turn:
                if entry.method in WRITES:
                    seen.clear()
                    continue
                request = (entry.method, entry.path, entry.query)
                assert request not in seen, f"{each.id}: {request} asked twice in one turn"
                seen.add(request)
    assert len(counts) >= 50
    mean = sum(counts.values()) / len(counts)
    assert mean <= MAX_CALLS, sorted(counts.items(), key=lambda item: -item[1])
