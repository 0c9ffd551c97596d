"""The scheduler's cycle in-process, against the suite's Redis and a real local salon with a frozen clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import redis
from rq import Queue

from services.scheduler.cycle import Cycle
from shared.booking.local import LocalBackend
from shared.booking.models import NewBooking
from shared.queueing import notices_queue
from shared.reminders.notice import Notice
from shared.reminders.plan import ReminderRules
from shared.reminders.windows import DailyWindow
from shared.visits.own import OwnChanges
from shared.visits.store import VisitStore
from tests.support.dialogues import CORPUS_NOW, SALON_ZONE
from tests.support.inprocess import COMPANY, local_backend

RULES = ReminderRules(DailyWindow.parse("19:00-21:00"), 120)
FRIDAY_15 = datetime(2026, 11, 27, 15, 0, tzinfo=SALON_ZONE)
FRIDAY_17 = datetime(2026, 11, 27, 17, 0, tzinfo=SALON_ZONE)
THURSDAY_EVENING = datetime(2026, 11, 26, 19, 30, tzinfo=SALON_ZONE)


def cycle_at(moment: datetime, salon: LocalBackend, client: redis.Redis) -> Cycle:
    """A scheduler started at ``moment``: a new Cycle is what a restarted scheduler has."""
    return Cycle(
        salon,
        VisitStore(client, COMPANY),
        OwnChanges(client, COMPANY),
        notices_queue(client, COMPANY),
        RULES,
        COMPANY,
        moment,
    )


def queued(client: redis.Redis) -> list[Notice]:
    queue: Queue = notices_queue(client, COMPANY)
    return [Notice.model_validate(job.args[1]) for job in queue.get_jobs()]


def test_a_visit_the_salon_moves_is_told_once_and_gets_its_reminder_for_the_new_time_once(
    tmp_path: Path, redis_client: redis.Redis
) -> None:
    salon = local_backend(tmp_path / "salon.sqlite")
    visit = salon.create_booking(
        NewBooking(service_id=1005, staff_id=2002, start=FRIDAY_15, client_phone="79001234567", client_name="Ольга")
    )
    cycle_at(CORPUS_NOW, salon, redis_client).run([])
    assert queued(redis_client) == [], "what was there before the scheduler first looked is not news"

    salon.reschedule_booking(visit.id, "79001234567", FRIDAY_17)
    cycle_at(CORPUS_NOW, salon, redis_client).run([])
    cycle_at(CORPUS_NOW, salon, redis_client).run([])
    [moved] = queued(redis_client)
    assert (moved.kind, moved.start, moved.previous_start) == ("moved", FRIDAY_17, FRIDAY_15)

    for minutes in (0, 5, 30):  # three schedulers, one after another, inside the window
        cycle_at(THURSDAY_EVENING + timedelta(minutes=minutes), salon, redis_client).run([])
    assert [(n.kind, n.start) for n in queued(redis_client)] == [("moved", FRIDAY_17), ("day_before", FRIDAY_17)]


def test_the_receptionists_own_move_and_cancel_are_not_told(tmp_path: Path, redis_client: redis.Redis) -> None:
    salon = local_backend(tmp_path / "salon.sqlite")
    visit = salon.create_booking(
        NewBooking(service_id=1005, staff_id=2002, start=FRIDAY_15, client_phone="79001234567", client_name="Ольга")
    )
    cycle_at(CORPUS_NOW, salon, redis_client).run([])
    own = OwnChanges(redis_client, COMPANY)
    own.expect_move(visit.id, FRIDAY_17, 2002)
    salon.reschedule_booking(visit.id, "79001234567", FRIDAY_17)
    cycle_at(CORPUS_NOW, salon, redis_client).run([])
    assert own.expected(visit.id) is None, "seen, so forgotten"
    own.expect_cancel(visit.id)
    salon.cancel_booking(visit.id, "79001234567")
    cycle_at(CORPUS_NOW, salon, redis_client).run([])
    assert queued(redis_client) == []
    state = VisitStore(redis_client, COMPANY).get(visit.id)
    assert state is not None and (state.start, state.status) == (FRIDAY_17, "cancelled")


def test_a_visit_the_salon_books_after_the_first_look_is_told(tmp_path: Path, redis_client: redis.Redis) -> None:
    salon = local_backend(tmp_path / "salon.sqlite")
    cycle_at(CORPUS_NOW, salon, redis_client).run([])
    salon.create_booking(
        NewBooking(service_id=1005, staff_id=2002, start=FRIDAY_15, client_phone="79001234567", client_name="Ольга")
    )
    ours = NewBooking(
        service_id=1001, staff_id=2001, start=FRIDAY_15, client_phone="79001234568", client_name="Анна",
        comment="WhatsApp, AI Admin [ai-admin:batch:CREATE_BOOKING#0]",
    )  # fmt: skip
    salon.create_booking(ours)
    cycle_at(CORPUS_NOW, salon, redis_client).run([])
    assert [(n.kind, n.phone) for n in queued(redis_client)] == [("created", "79001234567")]
