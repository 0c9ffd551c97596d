"""The YClients backend over real HTTP against the YClients stand-in, with the suite's own Redis.

Nothing of our own is mocked: the backend, its HTTP client and its rate limiter run as in production,
the stand-in plays YClients (from the API documentation) with the demo salon, and the clocks of both
are frozen at Monday 2026-11-23 10:00 Moscow time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import redis
import yaml
from structlog.testing import capture_logs

from shared import redis_keys
from shared.booking import yclients as yclients_package
from shared.booking.factory import build_backend
from shared.booking.models import Booking, Interval, NewBooking
from shared.booking.settings import BookingSettings
from shared.booking.yclients import backend as backend_module
from shared.booking.yclients.backend import YClientsBackend
from shared.booking.yclients.client import RateLimiter, YClientsClient
from shared.deadline import deadline
from shared.errors import BackendUnavailable, BookingNotFound, BookingRefused, SlotTaken
from shared.redis_client import sync_client
from tests.support.fakes.yclients import RequestLogEntry, YClientsStandIn

CATALOG = Path(__file__).resolve().parents[3] / "shared" / "booking" / "demo_salon.yaml"
MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=MSK)  # a Monday
MONDAY, TUESDAY = date(2026, 11, 23), date(2026, 11, 24)
CID = "962302"
PARTNER_TOKEN = "partner-7f3a9c1e5b"
USER_TOKEN = "user-4d8e2b6a0f"
PHONE, OTHER_PHONE = "79001234567", "79007654321"

# The demo salon: Анна 2001 (hair, Mon-Fri 10-20), Мария 2002 (nails, Tue-Sat), Олег 2003 (men's cut, Mon 11-21),
# Ольга 2005 (nails, Mon 09-14 and 15-18, Wed, Thu, Sun).
ANNA, MARIA, OLEG, OLGA = 2001, 2002, 2003, 2005
MENS_CUT, MANICURE = 1001, 1005

BackendFactory = Callable[..., YClientsBackend]


@pytest.fixture(scope="module")
def server() -> Iterator[YClientsStandIn]:
    # Limits far above what a test sends: only the rate-limit test, on its own stand-in, meets YClients' limits.
    standin = YClientsStandIn(
        CATALOG,
        partner_token=PARTNER_TOKEN,
        user_token=USER_TOKEN,
        now=NOW,
        rate_per_second=100_000,
        rate_per_minute=100_000,
    )
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture
def standin(server: YClientsStandIn) -> YClientsStandIn:
    server.reset()
    return server


@pytest.fixture
def make_backend(standin: YClientsStandIn, redis_url: str) -> Iterator[BackendFactory]:
    made: list[YClientsBackend] = []

    def make(
        *,
        base_url: str | None = None,
        partner: str = PARTNER_TOKEN,
        user: str = USER_TOKEN,
        per_second: int = 1_000,
        per_minute: int = 100_000,
        cache_seconds: int = 300,
        limiter_redis_url: str | None = None,
    ) -> YClientsBackend:
        shared = sync_client(limiter_redis_url or redis_url)
        limiter = RateLimiter(shared, CID, per_second=per_second, per_minute=per_minute, owns_redis=True)
        client = YClientsClient(base_url or standin.base_url, partner, user, limiter=limiter, timeout_seconds=5)
        backend = YClientsBackend(client, CID, cache_seconds=cache_seconds, frozen_at=NOW, cache=shared)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


@pytest.fixture
def backend(make_backend: BackendFactory) -> YClientsBackend:
    return make_backend()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=MSK)


def new_booking(start: datetime, *, staff_id: int = ANNA, phone: str = PHONE, comment: str = "") -> NewBooking:
    return NewBooking(
        service_id=MENS_CUT, staff_id=staff_id, start=start, client_phone=phone, client_name="Иван", comment=comment
    )


def logged(standin: YClientsStandIn, method: str, prefix: str) -> list[RequestLogEntry]:
    return [entry for entry in standin.requests if entry.method == method and entry.path.startswith(prefix)]


def raw_times(standin: YClientsStandIn, staff_id: int, day: date, service_id: int) -> list[datetime]:
    headers = {"Accept": "application/vnd.yclients.v2+json", "Authorization": f"Bearer {PARTNER_TOKEN}"}
    response = httpx.get(
        f"{standin.base_url}/book_times/{CID}/{staff_id}/{day.isoformat()}",
        params={"service_ids[]": service_id},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return [datetime.fromisoformat(seance["datetime"]) for seance in response.json()["data"]]


# --- catalog -------------------------------------------------------------------------------------


def test_company_services_and_staff_map_onto_the_models(backend: YClientsBackend) -> None:
    company = backend.company()
    assert (company.id, company.title, company.timezone) == (CID, "Салон красоты «Демо»", "Europe/Moscow")
    assert company.address == "Москва, ул. Примерная, д. 1"
    assert company.phone == "+7 (495) 000-00-00"

    services = {service.id: service for service in backend.services()}
    assert len(services) == 10
    cut = services[MENS_CUT]
    assert (cut.title, cut.category, cut.price_min, cut.price_max) == ("Мужская стрижка", "Волосы", 1500, 1500)
    assert cut.duration_minutes is None  # book_services gives lengths only per staff member
    assert cut.description.startswith("Стрижка машинкой")
    assert services[1010].category == "Брови и ресницы"

    everyone = backend.staff()
    assert [member.id for member in everyone] == [2001, 2002, 2003, 2004, 2005]
    anna = everyone[0]
    assert (anna.name, anna.specialization) == ("Анна Смирнова", "Стилист-парикмахер")
    # Who does what, as the booking form lists each master's services (the demo salon's service_ids).
    assert {member.id: member.service_ids for member in everyone} == {
        ANNA: (1001, 1002, 1003, 1004),
        MARIA: (1005, 1006, 1007),
        OLEG: (1001,),
        2004: (1008, 1009, 1010),
        OLGA: (1005, 1006, 1007),
    }
    manicurists = backend.staff(MANICURE)
    assert [member.id for member in manicurists] == [MARIA, OLGA]
    assert manicurists == [member for member in everyone if member.id in (MARIA, OLGA)]


def test_catalog_answers_are_cached_across_processes_unless_disabled(
    standin: YClientsStandIn, make_backend: BackendFactory
) -> None:
    cached = make_backend()
    cached.company()
    cached.services()
    cached.services()
    cached.staff(MANICURE)
    cached.staff()
    # The whole catalog: the company, the services, the staff, and who does what asked per master (5 masters
    # take fewer calls than 10 services would).
    assert [entry.path.split("/")[0] for entry in standin.requests] == [
        "company",
        "book_services",
        "book_staff",
        *["book_services"] * 5,
    ]
    assert [entry.query for entry in logged(standin, "GET", "book_staff")] == [""]
    asked = len(standin.requests)
    # Another backend (another worker process, or the api) reads the same cache in Redis: no request at all.
    other = make_backend()
    assert (other.company(), other.services(), other.staff(MANICURE)) == (
        cached.company(),
        cached.services(),
        cached.staff(MANICURE),
    )
    assert len(standin.requests) == asked

    uncached = make_backend(cache_seconds=0)
    uncached.services()
    uncached.services()
    assert len(standin.requests) == asked + 2
    # Uncached, a service's staff is its one book_staff call, not everyone's services asked again.
    assert [member.id for member in uncached.staff(MANICURE)] == [MARIA, OLGA]
    assert [(entry.path.split("/")[0], entry.query) for entry in standin.requests[asked + 2 :]] == [
        ("book_staff", f"service_ids%5B%5D={MANICURE}")
    ]


def test_who_does_what_is_asked_per_service_when_there_are_fewer_services_than_staff(
    make_backend: BackendFactory, tmp_path: Path
) -> None:
    # The demo salon cut down to its two haircuts: 5 masters, 2 services.
    salon = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    salon["services"] = [service for service in salon["services"] if service["id"] in (MENS_CUT, 1002)]
    for member in salon["staff"]:
        member["service_ids"] = [item for item in member["service_ids"] if item in (MENS_CUT, 1002)]
    small = tmp_path / "haircuts.yaml"
    small.write_text(yaml.safe_dump(salon, allow_unicode=True), encoding="utf-8")
    with YClientsStandIn(small, partner_token=PARTNER_TOKEN, user_token=USER_TOKEN, now=NOW) as haircuts:
        backend = make_backend(base_url=haircuts.base_url)
        everyone = backend.staff()
        calls = [(entry.path.split("/")[0], entry.query) for entry in haircuts.requests]
    # Everyone, the services, then one book_staff per service: 2 calls instead of 5 per master.
    assert sorted(calls) == [
        ("book_services", ""),
        ("book_staff", ""),
        ("book_staff", f"service_ids%5B%5D={MENS_CUT}"),
        ("book_staff", "service_ids%5B%5D=1002"),
    ]
    assert {member.id: member.service_ids for member in everyone} == {
        ANNA: (MENS_CUT, 1002),
        MARIA: (),
        OLEG: (MENS_CUT,),
        2004: (),
        OLGA: (),
    }
    assert [member.id for member in backend.staff(1002)] == [ANNA]


def test_working_days_fill_the_range_and_keep_breaks(backend: YClientsBackend) -> None:
    days = backend.working_days(OLGA, MONDAY, MONDAY + timedelta(days=6))
    assert [day.day for day in days] == [MONDAY + timedelta(days=offset) for offset in range(7)]
    assert days[0].intervals == (
        Interval(start=time(9), end=time(14)),
        Interval(start=time(15), end=time(18)),
    )
    assert not days[1].working  # Tuesday
    assert days[6].intervals == (Interval(start=time(10), end=time(18)),)
    with pytest.raises(BookingNotFound):
        backend.working_days(9999, MONDAY, MONDAY)


# --- free times ----------------------------------------------------------------------------------


def test_free_slots_are_book_times_of_everyone_who_does_the_service(
    standin: YClientsStandIn, backend: YClientsBackend
) -> None:
    standin.add_record(service_id=MENS_CUT, staff_id=ANNA, start=at(MONDAY, 12), phone=OTHER_PHONE, name="Пётр")
    slots = backend.free_slots(MENS_CUT, MONDAY)

    for staff_id, name in ((ANNA, "Анна Смирнова"), (OLEG, "Олег Петров")):
        ours = [slot.start for slot in slots if slot.staff_id == staff_id]
        assert ours == raw_times(standin, staff_id, MONDAY, MENS_CUT)
        assert all(slot.staff_name == name for slot in slots if slot.staff_id == staff_id)
    assert {slot.staff_id for slot in slots} == {ANNA, OLEG}
    assert all(slot.start > NOW and slot.duration_minutes == 45 for slot in slots)
    assert at(MONDAY, 10) not in [slot.start for slot in slots]  # now is not the future
    assert at(MONDAY, 12) not in [slot.start for slot in slots if slot.staff_id == ANNA]  # taken
    assert slots == sorted(slots, key=lambda slot: (slot.start, slot.staff_id))
    assert all(slot.start.utcoffset() == timedelta(hours=3) for slot in slots)

    only_oleg = backend.free_slots(MENS_CUT, MONDAY, staff_id=OLEG)
    assert only_oleg == [slot for slot in slots if slot.staff_id == OLEG]
    assert backend.free_slots(MENS_CUT, MONDAY, staff_id=OLGA) == []  # she doesn't cut hair
    assert {slot.staff_id for slot in backend.free_slots(MENS_CUT, TUESDAY)} == {ANNA}  # Олег is off


# --- booking -------------------------------------------------------------------------------------


def test_create_booking_returns_the_record_yclients_made(standin: YClientsStandIn, backend: YClientsBackend) -> None:
    made = backend.create_booking(new_booking(at(TUESDAY, 12), comment="WhatsApp, AI Admin [intent:abc]"))

    assert isinstance(made, Booking)
    assert (made.service_id, made.service) == (MENS_CUT, "Мужская стрижка")
    assert (made.staff_id, made.staff) == (ANNA, "Анна Смирнова")
    assert made.start == at(TUESDAY, 12)
    assert (made.duration_minutes, made.status, made.client_phone, made.client_name) == (45, "booked", PHONE, "Иван")
    assert (made.price_min, made.price_max, made.comment) == (1500, 1500, "WhatsApp, AI Admin [intent:abc]")

    records = standin.records(phone=PHONE)
    assert [record["id"] for record in records] == [made.id]
    assert records[0]["comment"] == "WhatsApp, AI Admin [intent:abc]"
    assert records[0]["staff_id"] == ANNA
    assert at(TUESDAY, 12) not in [slot.start for slot in backend.free_slots(MENS_CUT, TUESDAY, staff_id=ANNA)]


def test_a_taken_time_is_slot_taken(standin: YClientsStandIn, backend: YClientsBackend) -> None:
    backend.create_booking(new_booking(at(TUESDAY, 12)))
    with pytest.raises(SlotTaken) as caught:
        backend.create_booking(new_booking(at(TUESDAY, 12), phone=OTHER_PHONE))
    assert caught.value.code == 433
    assert standin.records(phone=OTHER_PHONE) == []


def test_client_bookings_are_only_this_clients_upcoming_ones(
    standin: YClientsStandIn, backend: YClientsBackend
) -> None:
    later = backend.create_booking(new_booking(at(TUESDAY, 15)))
    sooner = backend.create_booking(new_booking(at(TUESDAY, 11)))
    standin.add_record(service_id=MENS_CUT, staff_id=OLEG, start=at(MONDAY, 12), phone=OTHER_PHONE, name="Пётр")
    standin.add_record(service_id=MENS_CUT, staff_id=ANNA, start=at(TUESDAY, 13), phone=OTHER_PHONE, name="Пётр")
    standin.add_record(service_id=MENS_CUT, staff_id=OLEG, start=at(MONDAY, 9), phone=PHONE, name="Иван")  # past
    cancelled = backend.create_booking(new_booking(at(MONDAY, 16)))
    backend.cancel_booking(cancelled.id, PHONE)

    mine = backend.client_bookings(PHONE)
    assert [booking.id for booking in mine] == [sooner.id, later.id]
    assert all(booking.client_phone == PHONE for booking in mine)
    assert [booking.client_phone for booking in backend.client_bookings(OTHER_PHONE)] == [OTHER_PHONE, OTHER_PHONE]
    assert backend.client_bookings("79990000000") == []


def test_client_bookings_read_every_page(
    standin: YClientsStandIn, backend: YClientsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend_module, "RECORDS_PAGE_SIZE", 2)
    for hour in (11, 12, 13, 14, 15):
        standin.add_record(service_id=MENS_CUT, staff_id=ANNA, start=at(TUESDAY, hour), phone=PHONE, name="Иван")
    assert len(backend.client_bookings(PHONE)) == 5
    assert len(logged(standin, "GET", "records/")) == 3


def test_find_booking(standin: YClientsStandIn, backend: YClientsBackend) -> None:
    record_id = standin.add_record(
        service_id=MENS_CUT, staff_id=OLEG, start=at(MONDAY, 12), phone=OTHER_PHONE, name="Пётр", comment="звонок"
    )
    found = backend.find_booking(record_id)
    assert found is not None
    assert (found.staff_id, found.staff, found.client_name, found.comment) == (OLEG, "Олег Петров", "Пётр", "звонок")
    assert backend.find_booking(123) is None


def test_cancel_deletes_only_the_clients_own_booking(standin: YClientsStandIn, backend: YClientsBackend) -> None:
    mine = backend.create_booking(new_booking(at(TUESDAY, 12)))
    theirs = backend.create_booking(new_booking(at(TUESDAY, 14), phone=OTHER_PHONE))

    with pytest.raises(BookingNotFound):
        backend.cancel_booking(theirs.id, PHONE)
    assert [record["id"] for record in standin.records(phone=OTHER_PHONE)] == [theirs.id]

    backend.cancel_booking(mine.id, PHONE)
    assert standin.records(phone=PHONE) == []
    assert [record["deleted"] for record in standin.records(phone=PHONE, with_deleted=True)] == [True]
    gone = backend.find_booking(mine.id)
    assert gone is not None and gone.status == "cancelled"
    with pytest.raises(BookingNotFound):
        backend.cancel_booking(mine.id, PHONE)
    with pytest.raises(BookingNotFound):
        backend.cancel_booking(424242, PHONE)


def test_reschedule_moves_the_record(standin: YClientsStandIn, backend: YClientsBackend) -> None:
    made = backend.create_booking(new_booking(at(MONDAY, 12), comment="marker"))

    moved = backend.reschedule_booking(made.id, PHONE, at(MONDAY, 15))
    assert (moved.id, moved.start, moved.staff_id, moved.comment) == (made.id, at(MONDAY, 15), ANNA, "marker")
    record = standin.records(phone=PHONE)[0]
    assert datetime.fromisoformat(record["datetime"]) == at(MONDAY, 15)
    assert len(logged(standin, "PUT", "book_record/")) == 1

    to_oleg = backend.reschedule_booking(made.id, PHONE, at(MONDAY, 17), staff_id=OLEG)
    assert (to_oleg.staff_id, to_oleg.staff, to_oleg.start) == (OLEG, "Олег Петров", at(MONDAY, 17))
    record = standin.records(phone=PHONE)[0]
    assert (record["staff_id"], record["comment"]) == (OLEG, "marker")
    assert datetime.fromisoformat(record["datetime"]) == at(MONDAY, 17)

    with pytest.raises(BookingRefused) as refused:
        backend.reschedule_booking(made.id, PHONE, at(MONDAY, 17), staff_id=OLGA)  # she doesn't cut hair
    assert refused.value.code == 436
    with pytest.raises(BookingNotFound):
        backend.reschedule_booking(made.id, OTHER_PHONE, at(MONDAY, 18))


def test_reschedule_into_a_taken_time_is_slot_taken(standin: YClientsStandIn, backend: YClientsBackend) -> None:
    made = backend.create_booking(new_booking(at(MONDAY, 12)))
    standin.add_record(service_id=MENS_CUT, staff_id=ANNA, start=at(MONDAY, 15), phone=OTHER_PHONE, name="Пётр")
    standin.add_record(service_id=MENS_CUT, staff_id=OLEG, start=at(MONDAY, 16), phone=OTHER_PHONE, name="Пётр")

    with pytest.raises(SlotTaken):
        backend.reschedule_booking(made.id, PHONE, at(MONDAY, 15))
    with pytest.raises(SlotTaken):
        backend.reschedule_booking(made.id, PHONE, at(MONDAY, 16), staff_id=OLEG)
    with pytest.raises(SlotTaken):
        backend.reschedule_booking(made.id, PHONE, at(MONDAY, 9))  # the past
    record = standin.records(phone=PHONE)[0]
    assert (record["staff_id"], datetime.fromisoformat(record["datetime"])) == (ANNA, at(MONDAY, 12))


def test_reschedule_falls_back_to_editing_the_record(standin: YClientsStandIn, backend: YClientsBackend) -> None:
    made = backend.create_booking(new_booking(at(MONDAY, 12)))
    standin.fail_next("PUT", f"book_record/{CID}", status=403)  # a partner without access to moving user records

    moved = backend.reschedule_booking(made.id, PHONE, at(MONDAY, 14))
    assert moved.start == at(MONDAY, 14)
    assert [entry.status for entry in logged(standin, "PUT", "")] == [403, 201]
    assert datetime.fromisoformat(standin.records(phone=PHONE)[0]["datetime"]) == at(MONDAY, 14)


# --- failures, retries, limits -------------------------------------------------------------------


def test_a_failed_booking_post_is_never_retried(standin: YClientsStandIn, backend: YClientsBackend) -> None:
    backend.company()  # the clock's zone, so the only POST is the booking's
    standin.fail_next("POST", f"book_record/{CID}", status=500)
    with pytest.raises(BackendUnavailable):
        backend.create_booking(new_booking(at(TUESDAY, 12)))
    assert len(logged(standin, "POST", "book_record")) == 1


def test_failed_changes_are_never_retried(standin: YClientsStandIn, backend: YClientsBackend) -> None:
    made = backend.create_booking(new_booking(at(TUESDAY, 12)))
    standin.break_connection_next("DELETE", f"record/{CID}")
    with pytest.raises(BackendUnavailable):
        backend.cancel_booking(made.id, PHONE)
    assert len(logged(standin, "DELETE", "record")) == 1

    standin.fail_next("PUT", f"book_record/{CID}", status=502)
    with pytest.raises(BackendUnavailable):
        backend.reschedule_booking(made.id, PHONE, at(TUESDAY, 15))
    assert len(logged(standin, "PUT", "")) == 1  # neither repeated nor tried the other way


def test_reads_are_retried_after_network_errors_and_5xx(standin: YClientsStandIn, backend: YClientsBackend) -> None:
    standin.break_connection_next("GET", f"company/{CID}")
    assert backend.company().id == CID
    assert [entry.status for entry in logged(standin, "GET", "company")] == [0, 200]

    standin.fail_next("GET", f"book_services/{CID}", status=503)
    assert backend.services()
    assert [entry.status for entry in logged(standin, "GET", "book_services")] == [503, 200]


def test_429_is_retried_even_for_a_booking(standin: YClientsStandIn, backend: YClientsBackend) -> None:
    backend.company()
    standin.fail_next("POST", f"book_record/{CID}", status=429)
    made = backend.create_booking(new_booking(at(TUESDAY, 12)))
    assert [entry.status for entry in logged(standin, "POST", "book_record")] == [429, 201]
    assert [record["id"] for record in standin.records(phone=PHONE)] == [made.id]


def test_our_limiter_keeps_us_under_yclients_limit(make_backend: BackendFactory, redis_client: redis.Redis) -> None:
    strict = YClientsStandIn(
        CATALOG, partner_token=PARTNER_TOKEN, user_token=USER_TOKEN, now=NOW, rate_per_second=3, rate_per_minute=200
    )
    with strict:
        backend = make_backend(base_url=strict.base_url, per_second=3, per_minute=200, cache_seconds=0)
        for _ in range(10):
            backend.company()
        statuses = [entry.status for entry in strict.requests]
    assert statuses == [200] * 10
    assert redis_client.zcard(redis_keys.yclients_rate(CID, "minute")) == 10
    assert 0 < redis_client.zcard(redis_keys.yclients_rate(CID, "second")) <= 3


def test_without_redis_the_limiter_counts_in_process(standin: YClientsStandIn, make_backend: BackendFactory) -> None:
    backend = make_backend(limiter_redis_url="redis://127.0.0.1:1/0")
    with capture_logs() as logs:
        assert backend.company().id == CID
        assert backend.services()
    assert any("Redis unavailable" in entry["event"] for entry in logs)


def test_an_expired_deadline_sends_nothing(standin: YClientsStandIn, backend: YClientsBackend) -> None:
    with deadline(0), pytest.raises(BackendUnavailable):
        backend.company()
    assert standin.requests == []


def test_tokens_never_appear_in_errors_or_logs(standin: YClientsStandIn, make_backend: BackendFactory) -> None:
    wrong_partner, wrong_user = "wrong-partner-9a8b7c6d", "wrong-user-1f2e3d4c"
    with capture_logs() as logs:
        with pytest.raises(BookingRefused) as refused:
            make_backend(partner=wrong_partner, user=wrong_user).company()
        good = make_backend()
        standin.fail_next("GET", f"company/{CID}", status=500, count=5)
        with pytest.raises(BackendUnavailable) as unavailable:
            good.company()
        standin.break_connection_next("POST", f"book_record/{CID}")
        with pytest.raises(BackendUnavailable):
            make_backend(cache_seconds=0).create_booking(new_booking(at(TUESDAY, 12)))
    assert "YCLIENTS_PARTNER_TOKEN" in str(refused.value)
    assert refused.value.code is None
    text = repr(logs) + str(refused.value) + str(unavailable.value)
    assert logs
    for token in (wrong_partner, wrong_user, PARTNER_TOKEN, USER_TOKEN):
        assert token not in text


def test_from_settings_builds_a_working_backend(standin: YClientsStandIn, redis_url: str) -> None:
    settings = BookingSettings(
        _env_file=None,
        app_env="test",
        company_id=CID,
        redis_url=redis_url,
        booking_backend="yclients",
        yclients_api_url=standin.base_url,
        yclients_partner_token=PARTNER_TOKEN,
        yclients_user_token=USER_TOKEN,
        clock_frozen_at=NOW,
    )
    backend = build_backend(settings)
    try:
        assert isinstance(backend, yclients_package.YClientsBackend)
        assert backend.name == "yclients"
        assert backend.company().id == CID
        assert backend.now() == NOW
    finally:
        backend.close()
