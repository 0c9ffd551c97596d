"""``POST /api/whatsapp/sessions/{companyId}/send``: the worker's way to WhatsApp, through the gateway.

In standalone mode the api never holds a WhatsApp session; it proxies to the gateway that owns it.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import anyio
import httpx
import redis
from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from services.api.deps import ApiState, StateDep, require_api_key
from shared import redis_keys
from shared.config import COMPANY_ID_PATTERN
from shared.errors import InvalidInput, UnknownCompany
from shared.http import error_response
from shared.logging import bound, get_logger
from shared.models import ProxySendResult, ReactionRequest, SendRequest
from shared.signing import API_KEY_HEADER

log = get_logger(__name__)
router = APIRouter(prefix="/api/whatsapp", dependencies=[Depends(require_api_key)])

CompanyIdPath = Annotated[str, Path(alias="companyId", pattern=r"^[A-Za-z0-9_-]{1,50}$")]


@router.post("/sessions/{companyId}/send", response_model=None)
async def send(company_id: CompanyIdPath, request: SendRequest, state: StateDep) -> dict[str, Any] | JSONResponse:
    with bound(company_id=company_id, chat=request.phone, idempotency_key=request.idempotency_key):
        response = await _to_gateway(state, company_id, "/send", request.model_dump(by_alias=True, exclude_none=True))
        if isinstance(response, JSONResponse):
            return response
        body = _json(response)
        result = ProxySendResult(
            company_id=company_id,
            phone=str(body.get("phone", request.phone)),
            message_id=str(body["messageId"]),
            timestamp=int(time.time() * 1000),
            duplicate=bool(body.get("duplicate", False)),
        )
        return result.model_dump(by_alias=True)


@router.post("/sessions/{companyId}/reaction", response_model=None)
async def reaction(
    company_id: CompanyIdPath, request: ReactionRequest, state: StateDep
) -> dict[str, Any] | JSONResponse:
    """A reaction (the receptionist's ❤️ for a thanks) on a client's message, through the session owner."""
    with bound(company_id=company_id, chat=request.phone, message_id=request.message_id):
        body = request.model_dump(by_alias=True, exclude_none=True, exclude={"company_id"})
        response = await _to_gateway(state, company_id, "/reaction", body)
        if isinstance(response, JSONResponse):
            return response
        answer = _json(response)
        return {
            "success": True,
            "companyId": company_id,
            "phone": str(answer.get("phone", request.phone)),
            "messageId": str(answer.get("messageId", "")),
            "emoji": request.emoji,
            "duplicate": bool(answer.get("duplicate", False)),
        }


@router.post("/reaction", response_model=None)
async def reaction_original(request: ReactionRequest, state: StateDep) -> dict[str, Any] | JSONResponse:
    """The original's ``POST /api/whatsapp/reaction {phone, emoji, messageId, companyId}``."""
    company_id = request.company_id or state.settings.company_id
    if not COMPANY_ID_PATTERN.match(company_id):
        raise InvalidInput("companyId: must match [A-Za-z0-9_-]{1,50}")
    return await reaction(company_id, request, state)


async def _to_gateway(
    state: ApiState, company_id: str, path: str, body: dict[str, Any]
) -> httpx.Response | JSONResponse:
    """POST to the session owner; its 200 response, or the error response the caller should return."""
    gateway_url = await anyio.to_thread.run_sync(session_owner_url, state, company_id, limiter=state.redis_limiter)
    if gateway_url is None:
        raise UnknownCompany(f"companyId {company_id!r} is not served by this deployment")
    headers = {}
    api_key = state.settings.api_key.get_secret_value()
    if api_key:
        headers[API_KEY_HEADER] = api_key
    try:
        response = await state.http.post(f"{gateway_url}{path}", json=body, headers=headers)
    except httpx.HTTPError as error:
        log.error("Failed to send: wa-gateway is down", gateway=gateway_url, error=type(error).__name__)
        return error_response(503, f"wa-gateway is down or unreachable at {gateway_url}: {type(error).__name__}")
    if response.status_code == 200:
        return response
    reason = str(_json(response).get("error") or response.text[:300] or f"gateway answered {response.status_code}")
    log.warning("Failed to send", status=response.status_code, error=reason)
    if response.status_code in (400, 401, 503):
        return error_response(response.status_code, reason)
    return error_response(502, f"wa-gateway answered {response.status_code}: {reason}")


def session_owner_url(state: ApiState, company_id: str) -> str | None:
    """Where this company's session owner serves /send: the lease says, so one api serves many gateways.

    With no lease (the owner is down or on standby), our own company still routes to the configured
    gateway, which answers 503 rather than letting a send vanish.
    """
    try:
        raw = state.redis.get(redis_keys.gateway_lease(company_id))
    except redis.RedisError:
        raw = None
    if raw:
        return str(json.loads(raw)["url"])
    return state.settings.gateway_url if company_id == state.settings.company_id else None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
