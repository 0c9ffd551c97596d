"""One visit as the scheduler last saw it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from shared.booking.models import Booking, BookingStatus


class VisitState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: int
    phone: str
    start: datetime
    staff_id: int
    status: BookingStatus
    set_at: datetime
    """When the visit got its current time: booked, or moved. Reminders are skipped for a visit set too late."""

    @classmethod
    def of(cls, booking: Booking, set_at: datetime) -> VisitState:
        return cls(
            id=booking.id,
            phone=booking.client_phone,
            start=booking.start,
            staff_id=booking.staff_id,
            status=booking.status,
            set_at=set_at,
        )
