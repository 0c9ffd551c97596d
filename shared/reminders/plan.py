"""Which reminders a visit is due now, and whether a queued notice still says something true.

* Day-before: in the day-before window (REMINDER_DAY_BEFORE_WINDOW, the salon's wall clock) on the
  day before the visit's date.
* Two hours: from 1.25 to 0.75 of REMINDER_BEFORE_MINUTES before the visit (2.5 to 1.5 hours).
* Only for visits still going to happen (booked or confirmed): not cancelled ones, not visits marked as
  arrived or as a no-show.
* Not for a visit booked (or moved to its time) less than the reminder's lead time before it: after the
  day-before window opened for it, or less than REMINDER_BEFORE_MINUTES before it. The client has just
  been told.

The worker asks ``still_current`` right before sending, against the backend's answer of that moment, so a
reminder queued before the salon moved or cancelled the visit is dropped, not sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.booking.models import ACTIVE_STATUSES, Booking
from shared.reminders.notice import Notice
from shared.reminders.windows import DailyWindow
from shared.visits.state import VisitState

EARLIEST_SHARE = 1.25
LATEST_SHARE = 0.75
"""The short reminder goes out from 1.25 to 0.75 of its lead before the visit: 150 to 90 minutes for 120."""


@dataclass(frozen=True, slots=True)
class ReminderRules:
    day_before: DailyWindow
    before_minutes: int


def due_reminders(visit: VisitState, now: datetime, rules: ReminderRules, company_id: str) -> list[Notice]:
    """The reminders ``visit`` should get at ``now`` (aware, in the salon's zone); usually none."""
    if visit.status not in ACTIVE_STATUSES or not visit.phone or visit.start <= now:
        return []
    due = []
    zone = now.tzinfo
    assert zone is not None, "now must be aware, in the salon's time zone"
    visit_day = visit.start.astimezone(zone).date()
    opens, closes = rules.day_before.on(visit_day - timedelta(days=1), zone)
    if opens <= now < closes and visit.set_at < opens:
        due.append(_reminder(visit, "day_before", min(closes, visit.start), company_id))
    lead = timedelta(minutes=rules.before_minutes)
    earliest, latest = visit.start - lead * EARLIEST_SHARE, visit.start - lead * LATEST_SHARE
    if earliest <= now < latest and visit.set_at < visit.start - lead:
        due.append(_reminder(visit, "two_hours", latest, company_id))
    return due


def _reminder(visit: VisitState, kind: str, expires_at: datetime, company_id: str) -> Notice:
    return Notice.model_validate(
        {
            "company_id": company_id,
            "kind": kind,
            "visit_id": visit.id,
            "phone": visit.phone,
            "start": visit.start,
            "staff_id": visit.staff_id,
            "expires_at": expires_at,
        }
    )


def still_current(notice: Notice, booking: Booking | None, now: datetime) -> str | None:
    """None when ``notice`` is still true of ``booking`` (the backend's answer now); else why it is not sent."""
    if now >= notice.expires_at:
        return "too late: its moment has passed"
    if notice.kind == "cancelled":
        if booking is not None and booking.active:
            return "the visit is on again"
        return None
    if booking is None:
        return "the visit is gone"
    if not booking.active:
        return f"the visit is {booking.status}"
    if booking.start != notice.start:
        return "the visit was moved since"
    if notice.kind == "moved" and booking.staff_id != notice.staff_id:
        return "the visit's master changed since"
    return None
