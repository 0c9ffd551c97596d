"""The one interface the receptionist and the api use to read and change the salon's book."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from shared.booking.models import Booking, Company, FreeSlot, NewBooking, Service, StaffMember, WorkDay


class BookingBackend(Protocol):
    """Synchronous on purpose: the worker is RQ (sync); the api calls it from a worker thread.

    Errors: ``BackendUnavailable`` (transient: retry the turn), ``SlotTaken``, ``BookingNotFound``
    and other ``BookingRefused`` (permanent: tell the client). Every method may raise the transient one.
    """

    name: str

    def company(self) -> Company: ...

    def services(self) -> list[Service]: ...

    def staff(self, service_id: int | None = None) -> list[StaffMember]:
        """Everyone bookable, or only those who do ``service_id``."""
        ...

    def free_slots(
        self, service_id: int, day: date, staff_id: int | None = None, *, exclude_booking_id: int | None = None
    ) -> list[FreeSlot]:
        """Start times on ``day`` that fit the whole service, in the future, sorted by time then staff.

        ``exclude_booking_id`` frees the time of a booking that is being moved (where the backend can).
        """
        ...

    def bookable_dates(self, service_id: int, start: date, end: date, staff_id: int | None = None) -> list[date] | None:
        """Dates from ``start`` to ``end`` with some free time for the service, when the backend can tell
        cheaply (YClients' ``book_dates``); None means "ask ``free_slots`` day by day"."""
        ...

    def working_days(self, staff_id: int, start: date, end: date) -> list[WorkDay]:
        """The staff member's hours for each date from ``start`` to ``end`` inclusive."""
        ...

    def create_booking(self, booking: NewBooking) -> Booking:
        """Book, or raise SlotTaken when the time is no longer free."""
        ...

    def client_bookings(self, phone: str) -> list[Booking]:
        """This client's upcoming active bookings, soonest first; never another client's."""
        ...

    def find_booking(self, booking_id: int) -> Booking | None:
        """Any booking by id, whoever's and whatever its status; None when the backend has none."""
        ...

    def cancel_booking(self, booking_id: int, phone: str) -> None:
        """Cancel the client's booking; BookingNotFound when it is not theirs or already gone."""
        ...

    def reschedule_booking(self, booking_id: int, phone: str, start: datetime, staff_id: int | None = None) -> Booking:
        """Move the client's booking to ``start`` (and ``staff_id``); SlotTaken when that time isn't free."""
        ...

    def confirm_booking(self, booking_id: int) -> Booking:
        """Mark a visit the client confirmed (YClients: attendance 2; local: status confirmed); the salon's
        action, so any client's. BookingNotFound when it is gone or no longer going to happen."""
        ...

    def changed_bookings(self, since: datetime | None, first: date, last: date) -> list[Booking]:
        """Every client's visits from ``first`` to ``last`` (cancelled ones included) created or changed at or
        after ``since`` (all of them when None), by the backend's own clock (``Booking.changed_at``)."""
        ...

    def close(self) -> None: ...
