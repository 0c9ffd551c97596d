"""The original's legacy topology, ``WA_STANDALONE=false``: one api process that also hosts the WhatsApp session.

Composed here, above both services, so the api's app stays the api's and the gateway's runtime
stays the gateway's. The hosted session owner takes the same Redis lease as a wa-gateway would,
so even this topology can't produce two owners of one number: it connects only when no
wa-gateway holds the lease.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.api.app import create_app
from services.api.settings import ApiSettings
from services.wa_gateway.app import session_routers
from services.wa_gateway.runtime import gateway_runtime
from services.wa_gateway.settings import GatewaySettings
from shared.logging import get_logger

log = get_logger(__name__)

HOSTED_SESSION_PREFIX = "/wa"
"""The session owner's routes (/send, /health, ...) live under this prefix of the api."""


def create_hosted_app(settings: ApiSettings, gateway_settings: GatewaySettings) -> FastAPI:
    app = create_app(settings)
    api_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.warning(
            "WA_STANDALONE=false: this api hosts the WhatsApp session itself (legacy topology);"
            " it connects only if no wa-gateway holds the lease",
            company_id=settings.company_id,
        )
        send_url = settings.api_url + HOSTED_SESSION_PREFIX
        async with gateway_runtime(gateway_settings, "api", send_url) as gateway:
            app.state.gateway = gateway
            async with api_lifespan(app):
                yield

    app.router.lifespan_context = lifespan
    for router in session_routers(gateway_settings):
        app.include_router(router, prefix=HOSTED_SESSION_PREFIX)
    return app
