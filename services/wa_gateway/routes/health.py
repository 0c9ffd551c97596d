from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.wa_gateway.deps import GatewayDep
from shared.blocking import run_blocking
from shared.wire import GATEWAY_HEALTH_PATH

router = APIRouter()


@router.get(GATEWAY_HEALTH_PATH)
async def health(gateway: GatewayDep) -> dict[str, Any]:
    """Always 200: the body says what is wrong. Reads state only; never touches the connection."""
    backlog = await run_blocking(gateway.journal.backlog)
    return {
        "service": "wa-gateway",
        "companyId": gateway.settings.company_id,
        **gateway.session.health(),
        "journal": {
            "backlog": backlog.pending,
            "oldestAgeSeconds": None if backlog.oldest_age_seconds is None else round(backlog.oldest_age_seconds, 3),
            "rejected": backlog.rejected,
            "delivered": gateway.forwarder.delivered,
            "failedAttempts": gateway.forwarder.failed_attempts,
        },
    }
