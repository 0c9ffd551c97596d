"""``GET /api/companies/{companyId}/bookings?phone=…``: a client's upcoming bookings, from the configured backend.

For the operator and for checking what the receptionist did; read-only, behind ``x-api-key``.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from services.api.deps import StateDep, require_api_key
from shared.errors import BookingRefused, InvalidPhone, TransientError, UnknownCompany
from shared.http import error_response
from shared.logging import bound, get_logger
from shared.phones import normalize_phone

log = get_logger(__name__)
router = APIRouter(prefix="/api/companies", dependencies=[Depends(require_api_key)])

CompanyIdPath = Annotated[str, Path(alias="companyId", pattern=r"^[A-Za-z0-9_-]{1,50}$")]


@router.get("/{companyId}/bookings", response_model=None)
async def client_bookings(
    company_id: CompanyIdPath,
    state: StateDep,
    phone: Annotated[str, Query(min_length=1, max_length=64)],
) -> dict[str, Any] | JSONResponse:
    if company_id != state.settings.company_id:
        raise UnknownCompany(f"companyId {company_id!r} is not served by this deployment")
    try:
        digits = normalize_phone(phone, state.settings.default_region)
    except InvalidPhone as error:
        raise InvalidPhone(f"phone: {error}") from None
    with bound(company_id=company_id, chat=digits):
        try:
            bookings = await anyio.to_thread.run_sync(
                state.backend.client_bookings, digits, limiter=state.backend_limiter
            )
        except TransientError as error:
            log.warning("Bookings not listed: the booking backend is unavailable", error=str(error))
            return error_response(503, f"the booking backend ({state.backend.name}) is unavailable: {error}")
        except BookingRefused as error:
            log.warning("Bookings not listed: the booking backend refused", error=str(error))
            return error_response(502, f"the booking backend ({state.backend.name}) refused: {error}")
        log.info("Bookings listed", count=len(bookings), backend=state.backend.name)
    return {
        "bookings": [
            {
                "id": booking.id,
                "service_id": booking.service_id,
                "service": booking.service,
                "staff_id": booking.staff_id,
                "staff": booking.staff,
                "datetime": booking.start.isoformat(),
                "status": booking.status,
            }
            for booking in bookings
        ]
    }
