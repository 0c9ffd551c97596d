"""create_app(settings): the api's FastAPI application; the lifespan owns Redis and the HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from services.api.deps import ApiState
from services.api.events import start_event_listener
from services.api.ingest import Ingestor
from services.api.monitor import AlertMonitor
from services.api.routes import bookings, calendar, conversations, health, reactions, send, webhook, yclients_webhook
from services.api.routes import metrics as metrics_route
from services.api.settings import ApiSettings
from shared.blocking import BlockingPool
from shared.booking.factory import build_backend
from shared.conversations import ConversationStore
from shared.http import BodyLimitMiddleware, install_error_handlers
from shared.logging import get_logger
from shared.queueing import inbound_queue
from shared.redis_client import async_client, sync_client
from shared.tls import tls_context

log = get_logger(__name__)

GATEWAY_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
"""A send waits for WhatsApp's ack; the gateway answers 503 at once when not connected."""
BACKEND_THREADS = 4
"""Booking-backend calls at once (the bookings listing); YClients allows 5 requests a second anyway."""


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = sync_client(settings.redis_url)
        async_redis = async_client(settings.redis_url)
        http = httpx.AsyncClient(timeout=GATEWAY_TIMEOUT, limits=httpx.Limits(max_connections=50), verify=tls_context())
        redis_pool = BlockingPool("redis", settings.enqueue_threads)
        backend_pool = BlockingPool("backend", BACKEND_THREADS)
        backend = await backend_pool.run(build_backend, settings)
        transcripts = ConversationStore(settings.conversations_db)
        app.state.api = ApiState(
            settings=settings,
            redis=client,
            queue=inbound_queue(client, settings.company_id),
            async_redis=async_redis,
            ingestor=Ingestor(async_redis, settings.batch_idle_seconds, settings.batch_max_messages),
            http=http,
            redis_pool=redis_pool,
            backend=backend,
            backend_pool=backend_pool,
            conversations=transcripts,
        )
        log.info(
            "api started",
            company_id=settings.company_id,
            standalone=settings.wa_standalone,
            gateway=settings.gateway_url,
        )
        listener = start_event_listener(client)
        monitor = AlertMonitor(app.state.api)
        monitor.start()
        try:
            yield
        finally:
            await monitor.stop()  # before the HTTP client and Redis it uses are closed
            listener.stop()
            await http.aclose()
            backend.close()
            transcripts.close()
            client.close()
            await async_redis.aclose()
            redis_pool.shutdown()
            backend_pool.shutdown()

    app = FastAPI(title="ai-admin api", lifespan=lifespan)
    app.add_middleware(BodyLimitMiddleware)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics_route.router)
    app.include_router(webhook.router)
    app.include_router(send.router)
    app.include_router(reactions.router)
    app.include_router(bookings.router)
    app.include_router(conversations.router)
    app.include_router(yclients_webhook.router)
    app.include_router(calendar.router)
    return app
