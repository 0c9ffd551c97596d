"""``POST /typing``: the typing indicator, so a client sees the salon "typing…" while the AI works."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.wa_gateway.deps import GatewayDep, require_api_key
from shared.phones import normalize_phone
from shared.wire import GATEWAY_TYPING_PATH, TypingRequest

router = APIRouter(dependencies=[Depends(require_api_key)])


@router.post(GATEWAY_TYPING_PATH)
async def typing(request: TypingRequest, gateway: GatewayDep) -> dict[str, Any]:
    phone = normalize_phone(request.phone, gateway.settings.default_region)
    await gateway.session.send_typing(phone, request.state == "composing")
    return {"success": True, "phone": phone, "state": request.state}
