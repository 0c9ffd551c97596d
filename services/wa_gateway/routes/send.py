"""``POST /send``: a text to a chat, once per idempotency key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.wa_gateway.deps import GatewayDep, require_api_key
from services.wa_gateway.outbound import send_message
from shared.wire import GATEWAY_SEND_PATH, SendRequest

router = APIRouter(dependencies=[Depends(require_api_key)])


@router.post(GATEWAY_SEND_PATH)
async def send(request: SendRequest, gateway: GatewayDep) -> dict[str, Any]:
    return (await send_message(gateway, request)).to_wire()
