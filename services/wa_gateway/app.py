"""create_app(settings): the gateway's FastAPI application and the lifespan that owns its resources."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import redis.asyncio
from fastapi import FastAPI

from services.wa_gateway.deps import Gateway
from services.wa_gateway.forwarder import Forwarder
from services.wa_gateway.journal import Journal
from services.wa_gateway.routes import health, send, simulator
from services.wa_gateway.session import WhatsAppSession, encode_event
from services.wa_gateway.settings import GatewaySettings
from services.wa_gateway.transport.base import Transport
from services.wa_gateway.transport.simulator import SimulatorTransport
from shared import redis_keys
from shared.http import BodyLimitMiddleware, install_error_handlers
from shared.logging import get_logger
from shared.redis_client import async_client

log = get_logger(__name__)

WEBHOOK_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def build_transport(settings: GatewaySettings) -> Transport:
    if settings.wa_transport == "simulator":
        return SimulatorTransport(settings.data_dir, settings.simulator_phone_number)
    # Imported only when chosen: loading neonize loads its Go library.
    from services.wa_gateway.transport.neonize_transport import NeonizeTransport  # noqa: PLC0415

    return NeonizeTransport(settings)


def create_app(settings: GatewaySettings, transport: Transport | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        journal = Journal(settings.data_dir / f"gateway-{settings.company_id}.sqlite")
        redis_client: redis.asyncio.Redis = async_client(settings.redis_url)
        http = httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT, limits=httpx.Limits(max_connections=10))
        chosen = transport or build_transport(settings)

        async def publish(event: dict[str, Any]) -> None:
            try:
                await redis_client.publish(redis_keys.EVENTS_CHANNEL, encode_event(event))
            except redis.RedisError as error:
                log.warning("Could not publish WhatsApp event", event=event.get("type"), error=str(error))

        forwarder = Forwarder(settings, journal, http)
        session = WhatsAppSession(settings, chosen, journal, forwarder.wake, publish)
        app.state.gateway = Gateway(settings=settings, session=session, journal=journal, forwarder=forwarder)
        forward_task = asyncio.create_task(forwarder.run(), name="webhook-forwarder")
        session.start()
        log.info(
            "wa-gateway started",
            company_id=settings.company_id,
            transport=chosen.name,
            port=settings.wa_gateway_port,
        )
        try:
            yield
        finally:
            log.info("wa-gateway stopping", company_id=settings.company_id)
            await session.stop()
            forward_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await forward_task
            await http.aclose()
            await redis_client.aclose()
            close = getattr(chosen, "close", None)
            if close is not None:
                close()
            journal.close()

    app = FastAPI(title="wa-gateway", lifespan=lifespan)
    app.add_middleware(BodyLimitMiddleware)
    install_error_handlers(app, validation_status=400)
    app.include_router(health.router)
    app.include_router(send.router)
    if settings.wa_transport == "simulator":
        app.include_router(simulator.router)
    return app
