"""``POST /reconnect``: the operator action that resumes a replaced, logged-out or stopped session."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.wa_gateway.deps import GatewayDep, require_api_key
from shared.wire import GATEWAY_RECONNECT_PATH

router = APIRouter(dependencies=[Depends(require_api_key)])


@router.post(GATEWAY_RECONNECT_PATH)
async def reconnect(gateway: GatewayDep) -> dict[str, Any]:
    await gateway.session.reconnect()
    return {"success": True, "status": gateway.session.state.status}
