"""The local backend reads its catalog tables once per catalog version, and still sees another process reseed them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from shared.booking.catalog import DEMO_CATALOG, WEEKDAYS, Catalog, load_catalog
from shared.booking.local import LocalBackend
from shared.booking.models import NewBooking
from shared.errors import BookingNotFound, BookingRefused
from tests.support.dialogues import CORPUS_NOW


@pytest.fixture
def salon(tmp_path: Path) -> Iterator[LocalBackend]:
    backend = LocalBackend(tmp_path / "salon.sqlite", load_catalog(DEMO_CATALOG), CORPUS_NOW)
    yield backend
    backend.close()


def _renamed(catalog: Catalog, service_id: int, title: str, staff_hours: str) -> Catalog:
    """The demo catalog with one service renamed and every staff member working ``staff_hours`` every day."""
    services = [
        service.model_copy(update={"title": title}) if service.id == service_id else service
        for service in catalog.services
    ]
    every_day = dict.fromkeys(WEEKDAYS, staff_hours)
    staff = [member.model_copy(update={"schedule": every_day}) for member in catalog.staff]
    return catalog.model_copy(update={"services": services, "staff": staff})


def test_a_catalog_seeded_by_another_process_is_what_the_next_call_sees(salon: LocalBackend, tmp_path: Path) -> None:
    demo = load_catalog(DEMO_CATALOG)
    service = demo.services[0]
    day = CORPUS_NOW.date() + timedelta(days=2)
    assert salon.services()[0].title == service.title
    before = salon.free_slots(service.id, day)

    # Another process (the api, a restarted worker) opens the same salon with an edited catalog file.
    other = LocalBackend(salon.path, _renamed(demo, service.id, "Новое название", "12:00-13:00"), CORPUS_NOW)
    other.close()

    assert salon.services()[0].title == "Новое название"
    after = salon.free_slots(service.id, day)
    assert after != before
    assert {slot.start.hour for slot in after} <= {12}
    [workday] = salon.working_days(demo.staff[0].id, day, day)
    assert [(interval.start.hour, interval.end.hour) for interval in workday.intervals] == [(12, 13)]


def test_the_catalog_answers_are_the_tables(salon: LocalBackend) -> None:
    demo = load_catalog(DEMO_CATALOG)
    assert [service.id for service in salon.services()] == sorted(service.id for service in demo.services)
    staff = salon.staff()
    assert [member.id for member in staff] == sorted(member.id for member in demo.staff)
    for member in demo.staff:
        assert next(m for m in staff if m.id == member.id).service_ids == tuple(sorted(member.service_ids))
    some_service = demo.services[0].id
    assert {m.id for m in salon.staff(some_service)} == {m.id for m in demo.staff if some_service in m.service_ids}
    assert salon.company().id == str(demo.company.id)
    # A caller changing its list changes nothing for the next one.
    salon.services().clear()
    assert len(salon.services()) == len(demo.services)


def test_unknown_service_staff_and_a_mismatch_are_refused_as_before(salon: LocalBackend) -> None:
    demo = load_catalog(DEMO_CATALOG)
    start = datetime.combine(CORPUS_NOW.date() + timedelta(days=2), datetime.min.time(), CORPUS_NOW.tzinfo)
    with pytest.raises(BookingRefused) as unknown:
        salon.free_slots(999_999, start.date())
    assert unknown.value.code == 438
    with pytest.raises(BookingNotFound):
        salon.working_days(999_999, start.date(), start.date())
    member = demo.staff[0]
    not_theirs = next(service.id for service in demo.services if service.id not in member.service_ids)
    booking = NewBooking(
        service_id=not_theirs,
        staff_id=member.id,
        start=start.replace(hour=12),
        client_phone="79001234567",
        client_name="Анна",
    )
    with pytest.raises(BookingRefused) as mismatch:
        salon.create_booking(booking)
    assert mismatch.value.code == 436


def test_a_booked_time_and_what_overlaps_it_are_no_longer_free(salon: LocalBackend) -> None:
    demo = load_catalog(DEMO_CATALOG)
    member = demo.staff[0]
    service = next(s for s in demo.services if s.id in member.service_ids)
    day = CORPUS_NOW.date() + timedelta(days=1)
    free = salon.free_slots(service.id, day, member.id)
    assert free
    first = free[0]
    salon.create_booking(
        NewBooking(
            service_id=service.id,
            staff_id=member.id,
            start=first.start,
            client_phone="79001234567",
            client_name="Анна",
        )
    )
    still_free = salon.free_slots(service.id, day, member.id)
    assert first.start not in {slot.start for slot in still_free}
    assert all(
        slot.start >= first.start + timedelta(minutes=service.duration_minutes)
        or slot.start + timedelta(minutes=service.duration_minutes) <= first.start
        for slot in still_free
    )
