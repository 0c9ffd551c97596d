"""Rapid-fire batching per chat, in Redis, with every step atomic.

The api *ingests*: one Lua call per webhook marks each WhatsApp message id as seen, appends the
message to its chat's buffer and sets when the chat is due for a flush (in the due set), so a
message is never marked seen without being stored, a redelivered message is never stored twice,
and a stored message always has its chat due. The worker's dispatcher turns due chats into RQ jobs
(``FlushSchedule``); nothing per message touches RQ. The worker *takes*: one Lua call moves up to BATCH_MAX_MESSAGES
into the chat's in-flight record once the chat has been idle for BATCH_IDLE_SECONDS (or the
buffer is full). The in-flight record survives a crash; the retried job answers that same batch
with the same id, so its replies carry the same idempotency keys, and keeps the decision taken for it
(commands, their results, the reply). It is deleted only after the replies went out (*finish*).
Time comes from Redis' clock, so api and worker clocks don't matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import redis
from pydantic import TypeAdapter

from shared import redis_keys
from shared.wire import InboundMessage

_MESSAGES = TypeAdapter(list[InboundMessage])

INGEST_SCRIPT = """
-- KEYS: due set, wake list, then (seen, buffer, last-message) per message
-- ARGV: idle ms, max messages, seen ttl, buffer ttl, then (message json, chat) per message
local idle = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local results = {}
local buffers = {}
local n = (#KEYS - 2) / 3
for i = 1, n do
    local seen, buffer, last = KEYS[3 * i], KEYS[3 * i + 1], KEYS[3 * i + 2]
    local chat = ARGV[4 + 2 * i]
    if redis.call('SET', seen, '1', 'NX', 'EX', ARGV[3]) == false then
        results[i] = -1
    else
        results[i] = redis.call('RPUSH', buffer, ARGV[3 + 2 * i])
        redis.call('EXPIRE', buffer, ARGV[4])
        redis.call('SET', last, now, 'EX', ARGV[4])
    end
    -- A duplicate schedules its chat too: an earlier attempt may have stored it and lost the answer.
    buffers[chat] = buffer
end
for chat, buffer in pairs(buffers) do
    local due = now + idle
    if redis.call('LLEN', buffer) >= max then
        due = now
    end
    redis.call('ZADD', KEYS[1], due, chat)
end
redis.call('LPUSH', KEYS[2], '1')
redis.call('LTRIM', KEYS[2], 0, 0)
return results
"""

_CLAIM_DUE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local later = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
local next_in = -1
if later[2] then
    next_in = tonumber(later[2]) - now
end
return {due, next_in}
"""

_SCHEDULE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('LPUSH', KEYS[2], '1')
redis.call('LTRIM', KEYS[2], 0, 0)
return now
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


def ingest_call(
    company_id: str, messages: Sequence[InboundMessage], idle_ms: int, max_messages: int
) -> tuple[list[str], list[str | int]]:
    """The keys and arguments of one INGEST_SCRIPT call: the api runs it on its async client, tests on a sync one."""
    keys = [redis_keys.due_chats(company_id), redis_keys.flush_wakeup(company_id)]
    args: list[str | int] = [idle_ms, max_messages, redis_keys.SEEN_TTL_SECONDS, redis_keys.BUFFER_TTL_SECONDS]
    for message in messages:
        keys += [
            redis_keys.seen(company_id, message.message_id),
            redis_keys.buffer(company_id, message.chat),
            redis_keys.last_message(company_id, message.chat),
        ]
        args += [message.to_json(), message.chat]
    return keys, args


@dataclass(frozen=True, slots=True)
class DueChats:
    chats: list[str]
    next_in_ms: int | None
    """How soon the earliest chat still waiting is due; None when none waits."""


class FlushSchedule:
    """When each chat is due for a flush: a sorted set per company, plus a one-slot list that wakes the dispatcher.

    The api's ingest and the worker's reschedules write it; the worker's dispatcher claims due chats
    and enqueues one RQ flush job each.
    """

    def __init__(self, client: redis.Redis, company_id: str) -> None:
        self._client = client
        self.company_id = company_id
        self.due_key = redis_keys.due_chats(company_id)
        self.wake_key = redis_keys.flush_wakeup(company_id)
        self._claim = client.register_script(_CLAIM_DUE)
        self._schedule = client.register_script(_SCHEDULE)

    def schedule(self, chat: str, delay_seconds: float) -> None:
        """Flush ``chat`` after ``delay_seconds`` (Redis' clock), replacing any earlier plan for it."""
        self._schedule(keys=[self.due_key, self.wake_key], args=[chat, max(0, int(delay_seconds * 1000))])

    def due(self, limit: int) -> DueChats:
        """Chats due now (not removed: the dispatcher removes each in the transaction that enqueues its job)."""
        chats, next_in = self._claim(keys=[self.due_key], args=[limit])
        return DueChats([chat.decode() for chat in chats], None if int(next_in) < 0 else int(next_in))

    def wait_for_wakeup(self, timeout_seconds: float) -> None:
        """Block until an ingest or a reschedule wakes the dispatcher, or ``timeout_seconds`` pass."""
        self._client.blpop([self.wake_key], timeout=max(timeout_seconds, 0.001))


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
        self._ingest = client.register_script(INGEST_SCRIPT)
        self._take = client.register_script(_TAKE)
        self._finish = client.register_script(_FINISH)
        self._save_decision = client.register_script(_SAVE_DECISION)

    def ingest(self, company_id: str, messages: Sequence[InboundMessage]) -> list[int]:
        """Store ``messages`` and make their chats due; per message its buffer's length, or -1 for a duplicate."""
        keys, args = ingest_call(company_id, messages, self.idle_ms, self.max_messages)
        return [int(result) for result in self._ingest(keys=keys, args=args)]

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
