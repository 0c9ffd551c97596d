"""``GET /api/calendar/{token}.ics``: the visit behind a "📅 Добавить в календарь" link, as an iCalendar file.

No API key: the client's phone opens it. The token is signed with CALENDAR_LINK_SECRET and expires
(CALENDAR_LINK_HOURS); the visit is read from the backend now, so it is at its current time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from services.api.deps import StateDep
from shared.errors import NotAuthenticated, UnknownVisit
from shared.logging import bound, get_logger
from shared.reminders.calendar import TOKEN_PATTERN, read_calendar_token, visit_ics
from shared.wire import CALENDAR_PATH

log = get_logger(__name__)
router = APIRouter()


@router.get(CALENDAR_PATH)
async def visit_calendar(
    state: StateDep, token: Annotated[str, Path(max_length=512, pattern=TOKEN_PATTERN)]
) -> Response:
    settings = state.settings
    secret = settings.calendar_link_secret.get_secret_value()
    if not settings.public_base_url or not secret:
        raise NotAuthenticated("calendar links are off here (PUBLIC_BASE_URL is not set)")
    visit_id = read_calendar_token(secret, token, settings.company_id, datetime.now(UTC))
    with bound(company_id=settings.company_id, visit_id=visit_id):
        booking = await state.backend_pool.run(state.backend.find_booking, visit_id)
        if booking is None or not booking.active:
            log.info("Calendar link of a visit that is no longer on")
            raise UnknownVisit("this visit is no longer in the salon's book")
        company = await state.backend_pool.run(state.backend.company)
        log.info("Calendar file served")
    return Response(
        visit_ics(booking, company),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="visit-{booking.id}.ics"'},
    )
