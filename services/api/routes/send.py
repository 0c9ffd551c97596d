"""``POST /api/whatsapp/sessions/{companyId}/send``: the worker's way to WhatsApp, through the session owner."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends

from services.api.deps import CompanyIdPath, StateDep, require_api_key
from services.api.gateway_proxy import post_to_session_owner
from shared.http import BadRequestRoute
from shared.logging import bound
from shared.wire import GATEWAY_SEND_PATH, SESSION_SEND_PATH, ProxySendResult, SendRequest, SendResult

# The original's endpoint: every invalid field is a 400, as its validator answered.
router = APIRouter(dependencies=[Depends(require_api_key)], route_class=BadRequestRoute)


@router.post(SESSION_SEND_PATH)
async def send(company_id: CompanyIdPath, request: SendRequest, state: StateDep) -> dict[str, Any]:
    with bound(company_id=company_id, chat=request.phone, idempotency_key=request.idempotency_key):
        answer = await post_to_session_owner(state, company_id, GATEWAY_SEND_PATH, request.to_wire())
        sent = SendResult.model_validate(answer)
        result = ProxySendResult(
            company_id=company_id,
            phone=sent.phone,
            message_id=sent.message_id,
            timestamp=int(time.time() * 1000),
            duplicate=sent.duplicate,
        )
        return result.to_wire()
