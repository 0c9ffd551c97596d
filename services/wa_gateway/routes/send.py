"""``POST /send``: a text to a chat, once per idempotency key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.wa_gateway.deps import GatewayDep, require_api_key
from shared.logging import bound, get_logger
from shared.phones import normalize_chat
from shared.wire import GATEWAY_SEND_PATH, SendRequest, SendResult

log = get_logger(__name__)
router = APIRouter(dependencies=[Depends(require_api_key)])


@router.post(GATEWAY_SEND_PATH)
async def send(request: SendRequest, gateway: GatewayDep) -> dict[str, Any]:
    chat = normalize_chat(request.phone, gateway.settings.default_region)
    with bound(company_id=gateway.settings.company_id, chat=chat, idempotency_key=request.idempotency_key):
        sent, duplicate = await gateway.session.send_text(chat, request.message, request.idempotency_key)
        if not duplicate:
            log.info("Message sent", message_id=sent.message_id, length=len(request.message))
        result = SendResult(
            message_id=sent.message_id, phone=chat, company_id=gateway.settings.company_id, duplicate=duplicate
        )
        return result.to_wire()
