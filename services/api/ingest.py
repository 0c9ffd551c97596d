"""Store a webhook's messages and schedule their chats' flushes in one Redis transaction.

Either every message of the request is stored (or recognised as a duplicate) and every chat
has a flush scheduled, or nothing happened and the gateway gets an error and retries. A
duplicate still schedules a flush: if an earlier attempt stored the message but the answer was
lost, the retry must not leave it without a timer.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import redis
from rq import Queue

from shared.batching import BatchStore
from shared.errors import StoreUnavailable
from shared.logging import get_logger
from shared.queueing import schedule_flush
from shared.wire import InboundMessage

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class IngestResult:
    added: list[InboundMessage]
    duplicates: list[InboundMessage]


def ingest(
    client: redis.Redis,
    store: BatchStore,
    queue: Queue,
    company_id: str,
    messages: list[InboundMessage],
    idle_seconds: float,
    job_timeout_seconds: int,
) -> IngestResult:
    """Blocking: call it from a worker thread, never on the event loop."""
    try:
        with client.pipeline(transaction=True) as pipe:
            pipe.multi()
            for message in messages:
                store.ingest(pipe, company_id, message)
            for chat in dict.fromkeys(message.chat for message in messages):
                schedule_flush(queue, company_id, chat, idle_seconds, job_timeout_seconds, pipeline=pipe)
            results = pipe.execute()
    except redis.RedisError as error:
        log.error("Webhook not stored; the gateway will retry", error=str(error), company_id=company_id)
        raise StoreUnavailable(f"Redis did not store the messages: {error}") from error
    outcomes = results[: len(messages)]
    added = [m for m, outcome in zip(messages, outcomes, strict=True) if outcome != -1]
    duplicates = [m for m, outcome in zip(messages, outcomes, strict=True) if outcome == -1]
    full_chats = {m.chat for m, length in zip(messages, outcomes, strict=True) if length >= store.max_messages}
    for chat in full_chats:
        # A full buffer need not wait for silence. Best effort: the delayed flush is already stored.
        with contextlib.suppress(redis.RedisError):
            schedule_flush(queue, company_id, chat, 0, job_timeout_seconds)
    return IngestResult(added=added, duplicates=duplicates)
