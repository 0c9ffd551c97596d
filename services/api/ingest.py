"""Store a webhook's messages and make their chats due for a flush: one Lua call on the async Redis client.

Either every message of the request is stored (or recognised as a duplicate) and every chat is due,
or nothing happened and the gateway gets an error and retries. Redis answers only after the write
is in its append-only file (``appendfsync always`` in the stack's own Redis), so a 2xx means stored.
No RQ job is created here: the worker's dispatcher turns due chats into flush jobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio
from redis.exceptions import RedisError

from shared.batching import INGEST_SCRIPT, ingest_call
from shared.errors import StoreUnavailable
from shared.logging import get_logger
from shared.wire import InboundMessage

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class IngestResult:
    added: list[InboundMessage]
    duplicates: list[InboundMessage]


class Ingestor:
    def __init__(self, client: redis.asyncio.Redis, idle_seconds: float, max_messages: int) -> None:
        self._script = client.register_script(INGEST_SCRIPT)
        self._idle_ms = int(idle_seconds * 1000)
        self._max_messages = max_messages

    async def ingest(self, company_id: str, messages: Sequence[InboundMessage]) -> IngestResult:
        keys, args = ingest_call(company_id, messages, self._idle_ms, self._max_messages)
        try:
            outcomes = await self._script(keys=keys, args=args)
        except RedisError as error:
            log.error("Webhook not stored; the gateway will retry", error=str(error), company_id=company_id)
            raise StoreUnavailable(f"Redis did not store the messages: {error}") from error
        added = [m for m, outcome in zip(messages, outcomes, strict=True) if int(outcome) != -1]
        duplicates = [m for m, outcome in zip(messages, outcomes, strict=True) if int(outcome) == -1]
        return IngestResult(added=added, duplicates=duplicates)
