"""The salon's book: one interface (``BookingBackend``) over the embedded salon and YClients."""

from shared.booking.backend import BookingBackend
from shared.booking.models import Booking, Company, FreeSlot, NewBooking, Service, StaffMember, WorkDay

__all__ = ["Booking", "BookingBackend", "Company", "FreeSlot", "NewBooking", "Service", "StaffMember", "WorkDay"]
