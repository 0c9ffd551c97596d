"""``POST /webhook/yclients``: YClients' webhooks about records, for the scheduler to look at at once.

YClients does not sign its webhooks; the URL configured in YClients carries the key:
``https://<PUBLIC_BASE_URL>/webhook/yclients?key=<YCLIENTS_WEBHOOK_KEY>`` (or the ``x-api-key`` header).
A body is one event ``{company_id, resource, resource_id, status, data}`` or a list of them; only ``record``
events are taken, each once within five minutes, and only their record id: the scheduler reads the record.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from services.api.deps import StateDep
from shared.errors import InvalidInput, NotAuthenticated, UnknownCompany
from shared.http import parse_json_value
from shared.logging import bound, get_logger
from shared.signing import API_KEY_HEADER
from shared.visits.hooks import HookInbox
from shared.wire import YCLIENTS_WEBHOOK_PATH

log = get_logger(__name__)
router = APIRouter()

MAX_EVENTS = 100


@router.post(YCLIENTS_WEBHOOK_PATH)
async def yclients_webhook(
    request: Request, state: StateDep, key: Annotated[str | None, Query(max_length=256)] = None
) -> dict[str, Any]:
    settings = state.settings
    expected = settings.yclients_webhook_key.get_secret_value()
    if not expected:
        raise NotAuthenticated("YClients webhooks are off here: set YCLIENTS_WEBHOOK_KEY to take them")
    given = key or request.headers.get(API_KEY_HEADER) or ""
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise NotAuthenticated("key: missing or wrong (the webhook URL must carry ?key=YCLIENTS_WEBHOOK_KEY)")
    events = _events(parse_json_value(await request.body()), settings.company_id)
    inbox = HookInbox(state.redis, settings.company_id)
    accepted = duplicates = ignored = 0
    for event, record_id in events:
        if record_id is None:
            ignored += 1
        elif await state.redis_pool.run(inbox.put, event, record_id):
            accepted += 1
        else:
            duplicates += 1
    with bound(company_id=settings.company_id):
        log.info("YClients webhook", accepted=accepted, duplicates=duplicates, ignored=ignored)
    return {"success": True, "accepted": accepted, "duplicates": duplicates, "ignored": ignored}


def _events(body: object, company_id: str) -> list[tuple[dict[str, Any], int | None]]:
    """Each event with its record id (None: not a record event); InvalidInput naming what is wrong."""
    items = body if isinstance(body, list) else [body]
    if not items or len(items) > MAX_EVENTS:
        raise InvalidInput(f"body: one event or a list of 1-{MAX_EVENTS} events")
    found: list[tuple[dict[str, Any], int | None]] = []
    for index, item in enumerate(items):
        where = f"[{index}]." if isinstance(body, list) else ""
        if not isinstance(item, dict):
            raise InvalidInput(f"{where or 'body'}: must be an object")
        company = item.get("company_id")
        if not isinstance(company, int | str) or isinstance(company, bool) or str(company) != company_id:
            raise UnknownCompany(f"{where}company_id: this deployment serves company {company_id}")
        resource = item.get("resource")
        if not isinstance(resource, str):
            raise InvalidInput(f"{where}resource: must be a string")
        if resource != "record":
            found.append((item, None))
            continue
        record_id = item.get("resource_id")
        if isinstance(record_id, str) and record_id.isdigit():
            record_id = int(record_id)
        if not isinstance(record_id, int) or isinstance(record_id, bool) or not 0 < record_id < 2**53:
            raise InvalidInput(f"{where}resource_id: must be a record id (a positive integer)")
        found.append((item, record_id))
    return found
