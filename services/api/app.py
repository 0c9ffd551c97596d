"""create_app(settings): the api's FastAPI application; the lifespan owns Redis and the HTTP client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
from fastapi import FastAPI

from services.api.deps import ApiState
from services.api.events import start_event_listener
from services.api.routes import bookings, health, sessions, webhook
from services.api.settings import ApiSettings
from services.wa_gateway.app import session_routers
from services.wa_gateway.runtime import gateway_runtime
from services.wa_gateway.settings import GatewaySettings
from shared.batching import BatchStore
from shared.booking.factory import build_backend
from shared.config import load_settings
from shared.http import BodyLimitMiddleware, install_error_handlers
from shared.logging import get_logger
from shared.queueing import inbound_queue
from shared.redis_client import sync_client

log = get_logger(__name__)

GATEWAY_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
"""A send waits for WhatsApp's ack; the gateway answers 503 at once when not connected."""
BACKEND_THREADS = 4
"""Booking-backend calls at once (the bookings listing); YClients allows 5 requests a second anyway."""
HOSTED_SESSION_PREFIX = "/wa"
"""With WA_STANDALONE=false the session owner's routes (/send, /health, ...) live under this prefix."""


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as hosted:
            if not settings.wa_standalone:
                log.warning(
                    "WA_STANDALONE=false: this api hosts the WhatsApp session itself (legacy topology);"
                    " it connects only if no wa-gateway holds the lease",
                    company_id=settings.company_id,
                )
                app.state.gateway = await hosted.enter_async_context(
                    gateway_runtime(load_settings(GatewaySettings), "api", settings.api_url + HOSTED_SESSION_PREFIX)
                )
            async with _api_resources(app):
                yield

    @asynccontextmanager
    async def _api_resources(app: FastAPI) -> AsyncIterator[None]:
        client = sync_client(settings.redis_url)
        http = httpx.AsyncClient(timeout=GATEWAY_TIMEOUT, limits=httpx.Limits(max_connections=50))
        backend = await anyio.to_thread.run_sync(build_backend, settings)
        app.state.api = ApiState(
            settings=settings,
            redis=client,
            queue=inbound_queue(client, settings.company_id),
            batches=BatchStore(client, settings.batch_idle_seconds, settings.batch_max_messages),
            http=http,
            redis_limiter=anyio.CapacityLimiter(settings.enqueue_threads),
            backend=backend,
            backend_limiter=anyio.CapacityLimiter(BACKEND_THREADS),
        )
        log.info(
            "api started",
            company_id=settings.company_id,
            standalone=settings.wa_standalone,
            gateway=settings.gateway_url,
        )
        listener = start_event_listener(client)
        try:
            yield
        finally:
            listener.stop()
            await http.aclose()
            backend.close()
            client.close()

    app = FastAPI(title="ai-admin api", lifespan=lifespan)
    app.add_middleware(BodyLimitMiddleware)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(webhook.router)
    app.include_router(sessions.router)
    app.include_router(bookings.router)
    if not settings.wa_standalone:
        for router in session_routers(load_settings(GatewaySettings)):
            app.include_router(router, prefix=HOSTED_SESSION_PREFIX)
    return app
