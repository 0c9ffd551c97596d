"""The project's one Redis lock: a key holding its holder's token, with a TTL, changed only by that holder.

Two users: the chat lock (one worker execution answers a chat at a time; sync redis-py) and the
WhatsApp session lease (one process owns a number; redis.asyncio, the token is the lease's JSON).
Every operation is one Lua call comparing the token, so a holder whose TTL ran out can never
extend or delete a lock someone else has taken since.
"""

from __future__ import annotations

import redis
import redis.asyncio

_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisLock:
    """``acquire`` takes a free lock or extends our own; ``renew`` only extends ours, never takes it back."""

    def __init__(self, client: redis.Redis, key: str, token: str, ttl_ms: int) -> None:
        self.key = key
        self.token = token
        self.ttl_ms = ttl_ms
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def acquire(self) -> bool:
        return bool(self._acquire(keys=[self.key], args=[self.token, self.ttl_ms]))

    def renew(self) -> bool:
        return bool(self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))

    def release(self) -> bool:
        return bool(self._release(keys=[self.key], args=[self.token]))


class AsyncRedisLock:
    """The same lock for asyncio code (the session lease)."""

    def __init__(self, client: redis.asyncio.Redis, key: str, token: str, ttl_ms: int) -> None:
        self.key = key
        self.token = token
        self.ttl_ms = ttl_ms
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    async def acquire(self) -> bool:
        return bool(await self._acquire(keys=[self.key], args=[self.token, self.ttl_ms]))

    async def renew(self) -> bool:
        return bool(await self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))

    async def release(self) -> bool:
        return bool(await self._release(keys=[self.key], args=[self.token]))
