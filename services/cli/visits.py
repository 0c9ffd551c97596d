"""``ai-admin visits book|move|cancel``: the local salon's administrator changes its book (BOOKING_BACKEND=local).

These are the salon's own changes: the scheduler notices them and tells the client once, as it does for a
visit an administrator creates, moves or cancels in YClients (where they are made in YClients itself).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from services.cli.errors import EXIT_USAGE, CliError
from shared.booking.backend import BookingBackend
from shared.booking.factory import build_backend
from shared.booking.models import Booking, NewBooking
from shared.booking.settings import BookingSettings
from shared.clock import zone
from shared.config import load_settings
from shared.errors import BookingRefused, ConfigurationError, TransientError

app = typer.Typer(no_args_is_help=True, help="The local salon's book, as its administrator changes it.")

When = Annotated[str, typer.Argument(metavar="WHEN", help="the salon's wall time, e.g. '2026-11-27 15:00'")]


def _backend() -> BookingBackend:
    try:
        settings = load_settings(BookingSettings)
    except ConfigurationError as error:
        raise CliError(f"configuration: {error}", EXIT_USAGE) from None
    if settings.booking_backend != "local":
        raise CliError("BOOKING_BACKEND=yclients: change visits in YClients; the scheduler notices them", EXIT_USAGE)
    try:
        return build_backend(settings)
    except ConfigurationError as error:
        raise CliError(str(error), EXIT_USAGE) from None


def _at(backend: BookingBackend, when: str) -> datetime:
    try:
        wall = datetime.strptime(when.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise CliError(f"WHEN: {when!r} is not YYYY-MM-DD HH:MM", EXIT_USAGE) from None
    return wall.replace(tzinfo=zone(backend.company().timezone))


def _line(booking: Booking) -> str:
    return f"visit {booking.id}: {booking.service}, {booking.start:%Y-%m-%d %H:%M}, {booking.staff}, {booking.status}"


def _visit(backend: BookingBackend, visit_id: int) -> Booking:
    booking = backend.find_booking(visit_id)
    if booking is None:
        raise CliError(f"no visit {visit_id}")
    return booking


@app.command()
def book(
    phone: Annotated[str, typer.Option(help="the client's phone, digits: 79001234567")],
    name: Annotated[str, typer.Option(help="the client's name")],
    service: Annotated[int, typer.Option(help="the service's id in the catalog")],
    staff: Annotated[int, typer.Option(help="the staff member's id in the catalog")],
    when: When,
) -> None:
    """Book a client in (the scheduler tells them: "Администратор записал вас…")."""
    backend = _backend()
    try:
        new = NewBooking(
            service_id=service, staff_id=staff, start=_at(backend, when), client_phone=phone, client_name=name
        )
        typer.echo(_line(backend.create_booking(new)))
    except (BookingRefused, TransientError, ValueError) as error:
        raise CliError(f"not booked: {error}") from None
    finally:
        backend.close()


@app.command()
def move(visit_id: Annotated[int, typer.Argument(metavar="VISIT")], when: When) -> None:
    """Move a visit to another time with the same staff member (the client is told once)."""
    backend = _backend()
    try:
        current = _visit(backend, visit_id)
        typer.echo(_line(backend.reschedule_booking(visit_id, current.client_phone, _at(backend, when))))
    except (BookingRefused, TransientError) as error:
        raise CliError(f"not moved: {error}") from None
    finally:
        backend.close()


@app.command()
def cancel(visit_id: Annotated[int, typer.Argument(metavar="VISIT")]) -> None:
    """Cancel a visit (the client gets an apology and an offer to rebook)."""
    backend = _backend()
    try:
        current = _visit(backend, visit_id)
        backend.cancel_booking(visit_id, current.client_phone)
        typer.echo(_line(_visit(backend, visit_id)))
    except (BookingRefused, TransientError) as error:
        raise CliError(f"not cancelled: {error}") from None
    finally:
        backend.close()
