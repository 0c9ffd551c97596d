"""What every booking backend speaks: the salon, its services and staff, free times and bookings.

Both backends (the embedded ``local`` salon and YClients) map their data onto these models, so the
receptionist, the api and the tests never see a backend's own shapes. Times are aware datetimes in
the salon's time zone; prices are whole roubles as catalogs give them.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BookingStatus = Literal["booked", "confirmed", "arrived", "no_show", "cancelled"]
ACTIVE_STATUSES: frozenset[str] = frozenset({"booked", "confirmed"})
CLIENT_BOOKINGS_AHEAD_DAYS = 60
"""How far ahead a client's bookings are listed (and so how far ahead the receptionist books)."""
"""Statuses of a visit that is still going to happen: it blocks the time and the client may change it."""


class DomainModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Company(DomainModel):
    id: str
    title: str
    address: str = ""
    phone: str = ""
    timezone: str = "Europe/Moscow"


class Service(DomainModel):
    id: int
    title: str
    category: str = ""
    price_min: int = 0
    price_max: int = 0
    duration_minutes: int | None = None
    """Unknown for YClients until a staff member is chosen (``book_services`` omits it otherwise)."""
    description: str = ""


class StaffMember(DomainModel):
    id: int
    name: str
    specialization: str = ""
    service_ids: tuple[int, ...] = ()
    """Empty when the backend does not say (YClients answers per service, see ``staff(service_id)``)."""


class FreeSlot(DomainModel):
    staff_id: int
    staff_name: str
    start: datetime
    duration_minutes: int


class Interval(DomainModel):
    start: time
    end: time


class WorkDay(DomainModel):
    """A staff member's working hours on one date; no intervals means a day off."""

    staff_id: int
    day: date
    intervals: tuple[Interval, ...] = ()

    @property
    def working(self) -> bool:
        return bool(self.intervals)


class Booking(DomainModel):
    id: int
    service_id: int
    service: str
    staff_id: int
    staff: str
    start: datetime
    duration_minutes: int
    status: BookingStatus = "booked"
    client_phone: str
    client_name: str = ""
    price_min: int = 0
    price_max: int = 0
    comment: str = ""
    created_at: datetime | None = None
    """When the visit was booked, by the backend's clock (YClients' ``create_date``); None when it can't say."""
    changed_at: datetime | None = None
    """When anything about it last changed (YClients' ``last_change_date``): what change polling goes by."""

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class NewBooking(DomainModel):
    service_id: int
    staff_id: int
    start: datetime
    client_phone: str = Field(pattern=r"^\d{7,15}$")
    client_name: str = Field(min_length=1, max_length=100)
    comment: str = ""
    """Carries the receptionist's intent marker, so a retried turn can find the booking it already made."""
