"""Answer the original's pub/sub health check: a ping on ``whatsapp:events`` gets a pong on ``whatsapp:health``.

A prober publishes ``{"type": "ping", "testId": ...}`` on EVENTS_CHANNEL and waits for
``{"type": "pong", "testId", "service": "wa-gateway", "timestamp"}`` on HEALTH_CHANNEL. Everything else
on the channel (the session events this gateway publishes itself, a pong, anyone's garbage) is ignored.
The subscription is a task on the event loop with its own connection, and comes back after Redis does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio
from pydantic import ValidationError

from shared import redis_keys
from shared.backoff import backoff_delay
from shared.logging import get_logger
from shared.tasks import cancel_and_wait
from shared.wire import HealthPing, HealthPong

log = get_logger(__name__)

RESUBSCRIBE_MIN_SECONDS = 0.5
RESUBSCRIBE_MAX_SECONDS = 10.0


def pong_for(data: bytes | str, service: str) -> HealthPong | None:
    """The answer to one message of EVENTS_CHANNEL, or None when it is not a ping."""
    try:
        ping = HealthPing.model_validate_json(data)
    except ValidationError:
        return None
    return HealthPong(test_id=ping.test_id, service=service, timestamp=int(time.time() * 1000))


async def answer_pings(redis_url: str, service: str) -> None:
    """Subscribe and answer until cancelled; a lost connection is retried with backoff, never given up."""
    # No socket timeout: a quiet channel is the normal case, not a dead connection.
    client = redis.asyncio.Redis.from_url(redis_url, socket_connect_timeout=5, health_check_interval=30)
    failures = 0
    try:
        while True:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(redis_keys.EVENTS_CHANNEL)
                if failures:
                    log.info("Health ping listener resubscribed", channel=redis_keys.EVENTS_CHANNEL)
                failures = 0
                message: dict[str, Any]
                async for message in pubsub.listen():
                    pong = pong_for(message["data"], service) if message.get("type") == "message" else None
                    if pong is not None:
                        await client.publish(redis_keys.HEALTH_CHANNEL, pong.to_json())
            except (redis.RedisError, OSError) as error:
                delay = backoff_delay(failures, RESUBSCRIBE_MIN_SECONDS, RESUBSCRIBE_MAX_SECONDS)
                failures += 1
                log.warning("Health ping listener lost Redis; resubscribing", error=str(error), retry_in_seconds=delay)
                await asyncio.sleep(delay)
            finally:
                with contextlib.suppress(redis.RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
    finally:
        await client.aclose()


@asynccontextmanager
async def answering_pings(redis_url: str, service: str) -> AsyncIterator[None]:
    """Answer health pings while the context is open."""
    task = asyncio.create_task(answer_pings(redis_url, service), name="health-pings")
    try:
        yield
    finally:
        await cancel_and_wait(task)
