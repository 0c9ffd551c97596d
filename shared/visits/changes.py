"""What a change to a visit means for the client: a notice of a move, a cancellation, a new visit, or nothing.

Rules, in order:

* a visit that has begun gets no notice of anything;
* a change the receptionist made (its booking's marker, or the change it said it was about to make) gets
  none either: the client asked for it and has the reply;
* still going to happen -> not any more: ``cancelled`` (deleted, or attendance -1 before the visit);
* a new time or master: ``moved``, with the old time;
* a visit first seen that was created after the scheduler's first look (or one back on after a
  cancellation): ``created``; one first seen that existed before (outside the listed days) is only recorded;
* anything else (confirmed, a comment, a price) is only recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.booking.models import ACTIVE_STATUSES, Booking
from shared.reminders.notice import Notice, NoticeKind
from shared.visits.own import Expectation, made_by_receptionist
from shared.visits.state import VisitState


@dataclass(frozen=True, slots=True)
class Change:
    state: VisitState
    """What to remember of the visit from now on."""
    notice: Notice | None
    why: str
    """For the log: what changed and why it is or is not told."""
    own_seen: bool = False
    """The receptionist's expectation matched and can be forgotten."""


def classify(
    previous: VisitState | None,
    booking: Booking,
    *,
    now: datetime,
    baseline_at: datetime,
    expected: Expectation | None,
    company_id: str,
) -> Change:
    moved = previous is not None and (booking.start != previous.start or booking.staff_id != previous.staff_id)
    # A moved visit's time was set now: its reminders follow the lead-time rule from the move.
    set_at = (booking.created_at or now) if previous is None else (now if moved else previous.set_at)
    state = VisitState.of(booking, set_at)
    was_active = previous is not None and previous.status in ACTIVE_STATUSES
    kind: NoticeKind | None = None
    if previous is None:
        created_since = booking.created_at is not None and booking.created_at >= baseline_at
        if booking.active and created_since:
            kind = "created"
    elif was_active and not booking.active:
        kind = "cancelled"
    elif booking.active and moved:
        kind = "moved"
    elif booking.active and not was_active:
        kind = "created"
    if kind is None:
        return Change(state, None, "recorded" if previous is None else "no change a client is told of")
    if booking.start <= now:
        return Change(state, None, f"{kind}, but the visit has begun")
    if expected is not None and expected.matches(booking):
        return Change(state, None, f"{kind} by the receptionist (the client has the reply)", own_seen=True)
    if kind == "created" and made_by_receptionist(booking):
        return Change(state, None, "created by the receptionist (the client has the reply)")
    if not booking.client_phone:
        return Change(state, None, f"{kind}, but the visit has no client phone")
    notice = Notice(
        company_id=company_id,
        kind=kind,
        visit_id=booking.id,
        phone=booking.client_phone,
        start=booking.start,
        staff_id=booking.staff_id,
        previous_start=previous.start if previous is not None and kind == "moved" else None,
        expires_at=booking.start,
    )
    return Change(state, notice, f"{kind} by the salon")
