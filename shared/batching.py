"""Rapid-fire batching per chat, in Redis, with every step atomic.

The api *ingests*: one Lua call marks the WhatsApp message id as seen and appends the message
to the chat's buffer, so a message is never marked seen without being stored, and a redelivered
message is never stored twice. The worker *takes*: one Lua call moves up to BATCH_MAX_MESSAGES
into the chat's in-flight record once the chat has been idle for BATCH_IDLE_SECONDS (or the
buffer is full). The in-flight record survives a crash; the retried job answers that same batch
with the same id, so its replies carry the same idempotency keys, and keeps the decision taken for it
(commands, their results, the reply). It is deleted only after the replies went out (*finish*).
Time comes from Redis' clock, so api and worker clocks don't matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import redis
from pydantic import TypeAdapter

from shared import redis_keys
from shared.wire import InboundMessage

_MESSAGES = TypeAdapter(list[InboundMessage])

_INGEST = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) == false then
    return -1
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], now, 'EX', ARGV[3])
return n
"""

_TAKE = """
local current = redis.call('HGET', KEYS[3], 'id')
if current then
    return {'taken', current, redis.call('HGET', KEYS[3], 'messages')}
end
local n = redis.call('LLEN', KEYS[1])
if n == 0 then
    return {'empty'}
end
local idle = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if n < max and now - last < idle then
    return {'wait', tostring(idle - (now - last))}
end
local items = redis.call('LRANGE', KEYS[1], 0, max - 1)
redis.call('LTRIM', KEYS[1], max, -1)
local messages = '[' .. table.concat(items, ',') .. ']'
local id = string.sub(redis.sha1hex(messages), 1, 24)
redis.call('HSET', KEYS[3], 'id', id, 'messages', messages)
return {'taken', id, messages}
"""

_FINISH = """
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

_SAVE_DECISION = """
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then
    return false
end
redis.call('HSETNX', KEYS[1], 'decision', ARGV[2])
return redis.call('HGET', KEYS[1], 'decision')
"""


@dataclass(frozen=True, slots=True)
class Batch:
    id: str
    company_id: str
    chat: str
    messages: list[InboundMessage]

    @property
    def text(self) -> str:
        """The original joined a rapid-fire batch with single spaces."""
        return " ".join(message.text for message in self.messages)

    @property
    def last_message_id(self) -> str:
        return self.messages[-1].message_id

    @property
    def push_name(self) -> str | None:
        return next((m.push_name for m in reversed(self.messages) if m.push_name), None)


@dataclass(frozen=True, slots=True)
class TakeResult:
    outcome: Literal["taken", "wait", "empty"]
    batch: Batch | None = None
    wait_ms: int = 0


class BatchStore:
    """The Lua scripts, registered once per Redis client."""

    def __init__(self, client: redis.Redis, idle_seconds: float, max_messages: int) -> None:
        self._client = client
        self.idle_ms = int(idle_seconds * 1000)
        self.max_messages = max_messages
        self._ingest = client.register_script(_INGEST)
        self._take = client.register_script(_TAKE)
        self._finish = client.register_script(_FINISH)
        self._save_decision = client.register_script(_SAVE_DECISION)

    def ingest(self, pipe: redis.client.Pipeline, company_id: str, message: InboundMessage) -> None:
        """Queue the atomic dedupe-and-append on ``pipe``; its result is -1 for a duplicate."""
        self._ingest(
            keys=[
                redis_keys.seen(company_id, message.message_id),
                redis_keys.buffer(company_id, message.chat),
                redis_keys.last_message(company_id, message.chat),
            ],
            args=[message.to_json(), redis_keys.SEEN_TTL_SECONDS, redis_keys.BUFFER_TTL_SECONDS],
            client=pipe,
        )

    def take(self, company_id: str, chat: str) -> TakeResult:
        reply = self._take(
            keys=[
                redis_keys.buffer(company_id, chat),
                redis_keys.last_message(company_id, chat),
                redis_keys.inflight(company_id, chat),
            ],
            args=[self.idle_ms, self.max_messages],
        )
        outcome = reply[0].decode()
        if outcome == "empty":
            return TakeResult("empty")
        if outcome == "wait":
            return TakeResult("wait", wait_ms=int(reply[1]))
        messages = _MESSAGES.validate_json(reply[2])
        return TakeResult("taken", Batch(reply[1].decode(), company_id, chat, messages))

    def saved_decision(self, batch: Batch) -> str | None:
        """The decision (JSON) an earlier attempt stored for this batch, if any."""
        raw = self._client.hget(redis_keys.inflight(batch.company_id, batch.chat), "decision")
        if raw is None:
            return None
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    def save_decision(self, pipe: redis.client.Pipeline, batch: Batch, decision: str) -> None:
        """Queue on ``pipe``: keep the first decision stored for a batch; the script returns the kept one.

        A retry replays that decision (its reply parts, its reaction), never a second, different answer.
        """
        self._save_decision(
            keys=[redis_keys.inflight(batch.company_id, batch.chat)], args=[batch.id, decision], client=pipe
        )

    def finish(self, batch: Batch) -> bool:
        return bool(self._finish(keys=[redis_keys.inflight(batch.company_id, batch.chat)], args=[batch.id]))

    def waiting(self, company_id: str, chat: str) -> int:
        """Messages of the chat not yet taken into a batch."""
        return int(self._client.llen(redis_keys.buffer(company_id, chat)))
