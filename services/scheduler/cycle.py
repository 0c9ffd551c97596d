"""One scheduler cycle: what changed at the backend since the last one, and which reminders are due now.

1. The first cycle ever lists the salon's visits (yesterday to CLIENT_BOOKINGS_AHEAD_DAYS ahead) and only
   remembers them: nothing that happened before the scheduler looked is news.
2. Later cycles ask for what changed since the newest change seen (``changed_bookings``, YClients'
   ``records?changed_after=``, a couple of minutes of overlap: a change read twice is no change the second
   time), plus the records YClients' webhook named. Each change is classified (``shared.visits.changes``);
   a notice is queued *before* the new state is remembered, so a scheduler killed in between queues it on
   the next cycle instead of never.
3. Every remembered visit is asked which reminders it is due now (``shared.reminders.plan``).

Queueing goes through ``queue_notice_once``: a notice is queued once ever, whatever restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rq import Queue

from shared.booking.backend import BookingBackend
from shared.booking.models import CLIENT_BOOKINGS_AHEAD_DAYS, Booking
from shared.clock import Clock, zone
from shared.logging import bound, get_logger
from shared.queueing import queue_notice_once
from shared.reminders.notice import Notice
from shared.reminders.plan import ReminderRules, due_reminders
from shared.visits.changes import classify
from shared.visits.own import OwnChanges
from shared.visits.state import VisitState
from shared.visits.store import Cursor, VisitStore

log = get_logger(__name__)

POLL_OVERLAP = timedelta(minutes=2)
"""Each poll asks from this much before the newest change seen: a change stamped in the same second as the
last one, or late by a little clock skew, is not missed; one read twice is recognised as no change."""
BASELINE_MARGIN = timedelta(minutes=10)
"""The first poll after the baseline starts this far back, for a backend whose clock is behind ours."""
LOOK_BACK = timedelta(days=1)
LOOK_AHEAD_DAYS = 366
"""Changes are asked for visits up to a year ahead, so a visit moved far away is seen leaving."""


@dataclass
class CycleReport:
    changes: int = 0
    notices: int = 0
    reminders: int = 0


class Cycle:
    def __init__(
        self,
        backend: BookingBackend,
        store: VisitStore,
        own: OwnChanges,
        queue: Queue,
        rules: ReminderRules,
        company_id: str,
        frozen_at: datetime | None = None,
    ) -> None:
        self._backend = backend
        self._store = store
        self._own = own
        self._queue = queue
        self._rules = rules
        self._company_id = company_id
        self._frozen_at = frozen_at

    def now(self) -> datetime:
        """The salon's now, in its zone (the backend's company says which; YClients' answer is cached)."""
        return Clock(zone(self._backend.company().timezone), self._frozen_at).now()

    def run(self, hook_ids: list[int]) -> CycleReport:
        report = CycleReport()
        now = self.now()
        cursor = self._store.cursor()
        if cursor is None:
            self._baseline(now)
        else:
            self._changes(now, cursor, hook_ids, report)
        for visit in self._store.all():
            for notice in due_reminders(visit, now, self._rules, self._company_id):
                if self._queue_once(notice, now):
                    report.reminders += 1
        forgotten = self._store.forget_before(now)
        if forgotten:
            log.info("Past visits forgotten", count=forgotten)
        return report

    def _baseline(self, now: datetime) -> None:
        today = now.date()
        found = self._backend.changed_bookings(
            None, today - LOOK_BACK, today + timedelta(days=CLIENT_BOOKINGS_AHEAD_DAYS)
        )
        for booking in found:
            self._store.put(VisitState.of(booking, booking.created_at or now))
        since = max([now - BASELINE_MARGIN, *(b.changed_at for b in found if b.changed_at is not None)])
        self._store.save_cursor(Cursor(since=since, baseline_at=now))
        log.info("Salon's visits listed", visits=len(found), note="changes from now on are noticed")

    def _changes(self, now: datetime, cursor: Cursor, hook_ids: list[int], report: CycleReport) -> None:
        today = now.date()
        changed = self._backend.changed_bookings(
            cursor.since - POLL_OVERLAP, today - LOOK_BACK, today + timedelta(days=LOOK_AHEAD_DAYS)
        )
        by_id: dict[int, Booking] = {booking.id: booking for booking in changed}
        for record_id in hook_ids:
            if record_id not in by_id:
                booking = self._backend.find_booking(record_id)
                if booking is not None:
                    by_id[record_id] = booking
        for booking in by_id.values():
            if self._apply(booking, now, cursor.baseline_at):
                report.changes += 1
                report.notices += 1
        stamps = [b.changed_at for b in by_id.values() if b.changed_at is not None]
        if stamps and max(stamps) > cursor.since:
            self._store.save_cursor(Cursor(since=max(stamps), baseline_at=cursor.baseline_at))

    def _apply(self, booking: Booking, now: datetime, baseline_at: datetime) -> bool:
        """Classify one changed booking, queue its notice, remember it; True when a notice was queued."""
        previous = self._store.get(booking.id)
        expected = self._own.expected(booking.id)
        change = classify(
            previous, booking, now=now, baseline_at=baseline_at, expected=expected, company_id=self._company_id
        )
        queued = change.notice is not None and self._queue_once(change.notice, now)
        if previous != change.state:
            with bound(company_id=self._company_id, chat=booking.client_phone, visit_id=booking.id):
                log.info(
                    "Visit changed",
                    why=change.why,
                    start=booking.start.isoformat(),
                    status=booking.status,
                    notice=change.notice.kind if change.notice else None,
                )
        self._store.put(change.state)
        if change.own_seen:
            self._own.seen(booking.id)
        return queued

    def _queue_once(self, notice: Notice, now: datetime) -> bool:
        queued = queue_notice_once(self._queue, notice, now)
        if queued:
            with bound(company_id=self._company_id, chat=notice.phone, visit_id=notice.visit_id):
                log.info("Notice queued", kind=notice.kind, key=notice.key, job_id=notice.job_id)
        return queued
