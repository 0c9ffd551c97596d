"""Everything that owns (or waits to own) a WhatsApp session, as one async context.

The gateway process runs it; so does an api started with WA_STANDALONE=false (the original's legacy
topology). Both go through the same transport and the same Redis lease, so even that
misconfiguration can't produce two owners of one number.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import redis.asyncio

from services.wa_gateway.counters import keep_counters
from services.wa_gateway.deps import Gateway
from services.wa_gateway.forwarder import Forwarder
from services.wa_gateway.journal import Journal
from services.wa_gateway.lease import SessionLease, new_instance_id
from services.wa_gateway.session import WhatsAppSession
from services.wa_gateway.settings import GatewaySettings
from services.wa_gateway.transport.base import Transport
from services.wa_gateway.transport.simulator import SimulatorTransport
from shared import redis_keys
from shared.conversations import ConversationStore
from shared.logging import get_logger
from shared.redis_client import async_client
from shared.tasks import cancel_and_wait
from shared.tls import tls_context
from shared.wire import SessionEvent

log = get_logger(__name__)

WEBHOOK_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def build_transport(settings: GatewaySettings) -> Transport:
    if settings.wa_transport == "simulator":
        return SimulatorTransport(
            settings.data_dir, settings.simulator_phone_number, settings.simulator_send_delay_seconds
        )
    # Imported only when chosen: loading neonize loads its Go library.
    from services.wa_gateway.transport.neonize_options import NeonizeOptions  # noqa: PLC0415
    from services.wa_gateway.transport.neonize_transport import NeonizeTransport  # noqa: PLC0415

    options = NeonizeOptions(
        company_id=settings.company_id,
        data_dir=settings.data_dir,
        wa_session_db=settings.wa_session_db,
        whatsapp_phone_number=settings.whatsapp_phone_number,
        default_region=settings.default_region,
        wa_allow_groups=settings.wa_allow_groups,
        use_pairing_code=settings.use_pairing_code,
        qr_expiry_seconds=settings.qr_expiry_seconds,
    )
    return NeonizeTransport(options)


@asynccontextmanager
async def gateway_runtime(
    settings: GatewaySettings, role: str, send_url: str, transport: Transport | None = None
) -> AsyncIterator[Gateway]:
    """``send_url`` is where this process serves /send; the lease tells the api's send proxy."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    journal = Journal(settings.data_dir / f"{role}-{settings.company_id}.sqlite")
    conversations = ConversationStore(settings.conversations_db)
    redis_client: redis.asyncio.Redis = async_client(settings.redis_url)
    http = httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT, limits=httpx.Limits(max_connections=10), verify=tls_context())
    chosen = transport or build_transport(settings)

    async def publish(event: SessionEvent) -> None:
        try:
            await redis_client.publish(redis_keys.EVENTS_CHANNEL, event.to_json())
        except redis.RedisError as error:
            log.warning("Could not publish WhatsApp event", wa_event=event.type, error=str(error))

    lease = SessionLease(
        redis_client, settings.company_id, new_instance_id(role), send_url, ttl_seconds=settings.wa_lease_ttl_seconds
    )
    forwarder = Forwarder(settings, journal, http)
    session = WhatsAppSession(
        settings,
        chosen,
        journal,
        forwarder.wake,
        publish,
        lease=lease,
        on_reaction=forwarder.forward_reaction,
        conversations=conversations,
    )
    forward_task = asyncio.create_task(forwarder.run(), name="webhook-forwarder")
    counters = await keep_counters(session.metrics, journal)  # before anything is counted
    session.start()
    log.info("WhatsApp session owner started", role=role, company_id=settings.company_id, transport=chosen.name)
    try:
        yield Gateway(
            settings=settings, session=session, journal=journal, forwarder=forwarder, conversations=conversations
        )
    finally:
        log.info("WhatsApp session owner stopping", role=role, company_id=settings.company_id)
        await session.stop()
        await counters.stop()
        await cancel_and_wait(forward_task)
        await http.aclose()
        await redis_client.aclose()
        close = getattr(chosen, "close", None)
        if close is not None:
            close()
        journal.close()
        conversations.close()
