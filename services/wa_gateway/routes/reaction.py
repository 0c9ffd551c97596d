"""``POST /reaction``: an emoji on a client's message, once per idempotency key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.wa_gateway.deps import GatewayDep, require_api_key
from shared.blocking import run_blocking
from shared.conversations import Author
from shared.logging import bound, get_logger
from shared.phones import normalize_phone
from shared.wire import GATEWAY_REACTION_PATH, ReactionRequest, ReactionResult

log = get_logger(__name__)
router = APIRouter(dependencies=[Depends(require_api_key)])


@router.post(GATEWAY_REACTION_PATH)
async def reaction(request: ReactionRequest, gateway: GatewayDep) -> dict[str, Any]:
    phone = normalize_phone(request.phone, gateway.settings.default_region)
    with bound(company_id=gateway.settings.company_id, chat=phone, message_id=request.message_id):
        sent, duplicate = await gateway.session.send_reaction(
            phone, request.message_id, request.emoji, request.idempotency_key
        )
        # Only the receptionist reacts through the API: a person reacts from the salon's phone.
        await run_blocking(
            gateway.conversations.record_reaction,
            phone,
            request.emoji,
            request.message_id,
            Author.BOT,
            sent.timestamp * 1000,
            request.idempotency_key,
        )
        if not duplicate:
            log.info("Reaction sent", emoji=request.emoji)
        result = ReactionResult(
            company_id=gateway.settings.company_id,
            message_id=sent.message_id,
            phone=phone,
            emoji=request.emoji,
            duplicate=duplicate,
        )
        return result.to_wire()
