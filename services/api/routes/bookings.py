"""``GET /api/companies/{companyId}/bookings?phone=…``: a client's upcoming bookings, from the configured backend.

For the operator and for checking what the receptionist did; read-only, behind ``x-api-key``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.api.deps import CompanyIdPath, StateDep, require_api_key
from shared.errors import InvalidPhone
from shared.logging import bound, get_logger
from shared.phones import normalize_phone
from shared.wire import BOOKINGS_PATH, served_company

log = get_logger(__name__)
router = APIRouter(dependencies=[Depends(require_api_key)])


@router.get(BOOKINGS_PATH)
async def client_bookings(
    company_id: CompanyIdPath,
    state: StateDep,
    phone: Annotated[str, Query(min_length=1, max_length=64)],
) -> dict[str, Any]:
    served_company(company_id, state.settings.company_id)
    try:
        digits = normalize_phone(phone, state.settings.default_region)
    except InvalidPhone as error:
        raise InvalidPhone(f"phone: {error}") from None
    with bound(company_id=company_id, chat=digits, backend=state.backend.name):
        bookings = await state.backend_pool.run(state.backend.client_bookings, digits)
        log.info("Bookings listed", count=len(bookings))
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
