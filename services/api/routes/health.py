"""``GET /health``: Redis, the gateway and the queue. Reads only; never touches WhatsApp."""

from __future__ import annotations

from typing import Any

import httpx
import redis
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.api.deps import ApiState, StateDep
from services.api.gateway_proxy import session_owner_url
from shared.wire import GATEWAY_HEALTH_PATH

router = APIRouter()

GATEWAY_HEALTH_TIMEOUT = httpx.Timeout(3.0)


def _redis_and_queue(state: ApiState) -> dict[str, Any]:
    state.redis.ping()
    return {
        "queued": state.queue.count,
        "scheduled": state.queue.scheduled_job_registry.count,
        "failed": state.queue.failed_job_registry.count,
    }


@router.get("/health", response_model=None)
async def health(state: StateDep) -> JSONResponse:
    failing: list[str] = []
    body: dict[str, Any] = {
        "service": "api",
        "companyId": state.settings.company_id,
        "standalone": state.settings.wa_standalone,
    }
    try:
        body["queue"] = await state.redis_pool.run(_redis_and_queue, state)
        body["redis"] = {"ok": True}
    except redis.RedisError as error:
        body["redis"] = {"ok": False, "error": str(error)}
        failing.append("redis")
    gateway_url = await session_owner_url(state, state.settings.company_id)
    try:
        response = await state.http.get(f"{gateway_url}{GATEWAY_HEALTH_PATH}", timeout=GATEWAY_HEALTH_TIMEOUT)
        gateway = response.json()
        body["gateway"] = {
            "ok": bool(gateway.get("connected")),
            "status": gateway.get("status"),
            "connected": gateway.get("connected"),
            "url": gateway_url,
        }
        if not gateway.get("connected"):
            failing.append("whatsapp")
    except (httpx.HTTPError, ValueError) as error:
        body["gateway"] = {"ok": False, "error": f"{type(error).__name__}", "url": gateway_url}
        failing.append("gateway")
    body["status"] = "ok" if not failing else "degraded"
    body["failing"] = failing
    return JSONResponse(body, status_code=200 if not failing else 503)
