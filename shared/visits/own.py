"""How the receptionist tells the scheduler "this change is the client's own": no notice for it.

A booking the receptionist makes carries ``OWN_MARKER`` in its comment (its turn's ledger marker). Before
it moves or cancels a visit it writes what the visit will look like (``expect``), so the scheduler, seeing
exactly that change, knows the client already has the reply. Written before the backend call, so the
scheduler can never see the change first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import redis

from shared import redis_keys
from shared.booking.models import Booking

OWN_MARKER = "ai-admin:"
"""Starts every receptionist booking's marker (``ai-admin:{batchId}:CREATE_BOOKING#0``)."""


def made_by_receptionist(booking: Booking) -> bool:
    return OWN_MARKER in booking.comment


@dataclass(frozen=True, slots=True)
class Expectation:
    start: datetime | None = None
    staff_id: int | None = None
    cancelled: bool = False

    def matches(self, booking: Booking) -> bool:
        if self.cancelled:
            return not booking.active
        return (
            booking.active
            and self.start is not None
            and booking.start == self.start
            and self.staff_id in (None, booking.staff_id)
        )


class OwnChanges:
    def __init__(self, client: redis.Redis, company_id: str) -> None:
        self._client = client
        self._company_id = company_id

    def expect_move(self, visit_id: int, start: datetime, staff_id: int | None) -> None:
        self._write(visit_id, {"start": start.isoformat(), "staffId": staff_id})

    def expect_cancel(self, visit_id: int) -> None:
        self._write(visit_id, {"cancelled": True})

    def _write(self, visit_id: int, body: dict[str, object]) -> None:
        key = redis_keys.visit_expectation(self._company_id, visit_id)
        self._client.set(key, json.dumps(body), ex=redis_keys.VISIT_EXPECTATION_TTL_SECONDS)

    def expected(self, visit_id: int) -> Expectation | None:
        raw = self._client.get(redis_keys.visit_expectation(self._company_id, visit_id))
        if raw is None:
            return None
        try:
            body = json.loads(raw)
            start = datetime.fromisoformat(body["start"]) if body.get("start") else None
            staff = body.get("staffId")
            return Expectation(start, int(staff) if staff is not None else None, bool(body.get("cancelled")))
        except (ValueError, TypeError, KeyError):
            return None  # unreadable: treat the change as the salon's rather than stay silent forever

    def seen(self, visit_id: int) -> None:
        self._client.delete(redis_keys.visit_expectation(self._company_id, visit_id))
