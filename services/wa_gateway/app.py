"""create_app(settings): the gateway's FastAPI application; the lifespan runs the session owner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from services.wa_gateway.health_pings import answering_pings
from services.wa_gateway.routes import health, pairing, reaction, reconnect, send, simulator, typing
from services.wa_gateway.routes import metrics as metrics_route
from services.wa_gateway.runtime import gateway_runtime
from services.wa_gateway.settings import GatewaySettings
from services.wa_gateway.transport.base import Transport
from services.wa_gateway.ui import routes as operator_page
from shared.http import BodyLimitMiddleware, install_error_handlers
from shared.logging import get_logger

log = get_logger(__name__)


def session_routers(settings: GatewaySettings) -> list[APIRouter]:
    """The routes of a session owner; the api mounts them under /wa when it hosts the session."""
    routers = [health.router, send.router, reaction.router, typing.router, reconnect.router, pairing.router]
    if settings.wa_transport == "simulator":
        routers.append(simulator.router)
    return routers


def create_app(settings: GatewaySettings, transport: Transport | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            gateway_runtime(settings, "wa-gateway", settings.gateway_url, transport) as gateway,
            answering_pings(settings.redis_url, "wa-gateway"),
        ):
            app.state.gateway = gateway
            log.info("wa-gateway started", company_id=settings.company_id, port=settings.wa_gateway_port)
            yield

    app = FastAPI(title="wa-gateway", lifespan=lifespan)
    app.add_middleware(BodyLimitMiddleware)
    install_error_handlers(app, validation_status=400)
    for router in session_routers(settings):
        app.include_router(router)
    # Not a session router: an api hosting the session (WA_STANDALONE=false) answers /metrics itself.
    app.include_router(metrics_route.router)
    # The operator's page (/ and /ui/...): only on the gateway itself, never mounted under an api's /wa.
    app.include_router(operator_page.router)
    return app
