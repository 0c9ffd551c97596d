"""The api's way to the WhatsApp session owner: find it through the lease, POST to it, pass on its answer.

In standalone mode the api never holds a WhatsApp session; the worker's replies and reactions go
through here to the gateway that owns it.
"""

from __future__ import annotations

from typing import Any

import httpx
import redis

from services.api.deps import ApiState
from shared import redis_keys
from shared.errors import UpstreamRejected, UpstreamUnavailable
from shared.logging import get_logger
from shared.signing import API_KEY_HEADER
from shared.wire import LeaseHolder, served_company

log = get_logger(__name__)

PASSED_ON = frozenset({400, 401})
"""The gateway's refusals that are the caller's to fix, passed on as they are; any other error is a 502."""


async def post_to_session_owner(state: ApiState, company_id: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The session owner's 200 answer; otherwise raises the error the caller should get."""
    gateway_url = await session_owner_url(state, company_id)
    headers = {}
    api_key = state.settings.api_key.get_secret_value()
    if api_key:
        headers[API_KEY_HEADER] = api_key
    try:
        response = await state.http.post(f"{gateway_url}{path}", json=body, headers=headers)
    except httpx.HTTPError as error:
        log.error("Failed to send: wa-gateway is down", gateway=gateway_url, error=type(error).__name__)
        raise UpstreamUnavailable(
            f"wa-gateway is down or unreachable at {gateway_url}: {type(error).__name__}"
        ) from None
    answer = _json(response)
    if response.status_code == 200:
        return answer
    reason = str(answer.get("error") or response.text[:300] or f"gateway answered {response.status_code}")
    log.warning("Failed to send", status=response.status_code, error=reason)
    if response.status_code == 503:
        raise UpstreamUnavailable(reason)
    if response.status_code in PASSED_ON:
        raise UpstreamRejected(reason, response.status_code)
    raise UpstreamRejected(f"wa-gateway answered {response.status_code}: {reason}", 502)


async def session_owner_url(state: ApiState, company_id: str) -> str:
    """Where this company's session owner serves /send: the lease says, so one api serves many gateways.

    With no lease (the owner is down or on standby), our own company still routes to the configured
    gateway, which answers 503 rather than letting a send vanish. Any other company is UnknownCompany.
    Read on the async client: every reply part passes here, and a thread hop per part is latency.
    """
    try:
        raw = await state.async_redis.get(redis_keys.gateway_lease(company_id))
    except redis.RedisError:
        raw = None
    if raw:
        return LeaseHolder.decode(raw).url
    served_company(company_id, state.settings.company_id)
    return state.settings.gateway_url


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
