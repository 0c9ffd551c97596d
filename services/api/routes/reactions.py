"""Reactions on a client's message (the receptionist's ❤️ for a thanks), through the session owner."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.api.deps import CompanyIdPath, StateDep, require_api_key
from services.api.gateway_proxy import post_to_session_owner
from shared.logging import bound
from shared.wire import (
    GATEWAY_REACTION_PATH,
    ORIGINAL_REACTION_PATH,
    SESSION_REACTION_PATH,
    ReactionRequest,
    ReactionResult,
)

router = APIRouter(dependencies=[Depends(require_api_key)])


@router.post(SESSION_REACTION_PATH)
async def reaction(company_id: CompanyIdPath, request: ReactionRequest, state: StateDep) -> dict[str, Any]:
    with bound(company_id=company_id, chat=request.phone, message_id=request.message_id):
        body = request.model_dump(by_alias=True, exclude_none=True, exclude={"company_id"})
        answer = await post_to_session_owner(state, company_id, GATEWAY_REACTION_PATH, body)
        result = ReactionResult.model_validate(answer).model_copy(update={"company_id": company_id})
        return result.to_wire()


@router.post(ORIGINAL_REACTION_PATH)
async def reaction_original(request: ReactionRequest, state: StateDep) -> dict[str, Any]:
    """The original's ``POST /api/whatsapp/reaction {phone, emoji, messageId, companyId}``."""
    return await reaction(request.company_id or state.settings.company_id, request, state)
