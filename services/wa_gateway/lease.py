"""One owner per WhatsApp number, enforced through Redis.

Before it connects, a session owner takes ``wa:lease:<company>`` with SET NX and a TTL, holding its
instance id and the URL where it serves /send. It renews the lease while it runs and gives it up on
shutdown. Anyone else (a second gateway, or an api with WA_STANDALONE=false) waits on standby and
takes over only when the lease expires. An owner that can't renew for a whole TTL stops its session
before anyone else could take the lease: at most one process is connected at any time.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis.asyncio

from shared import redis_keys

LEASE_TTL_SECONDS = 15
"""Short enough that a crashed owner is replaced quickly, long enough to ride out a Redis blip."""

_RENEW = """
local current = redis.call('GET', KEYS[1])
if current == false then
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
    return 1
end
if cjson.decode(current)['instance'] == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    return 1
end
return 0
"""

_RELEASE = """
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current)['instance'] == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    instance: str
    url: str
    process: str
    since: float


def new_instance_id(role: str) -> str:
    return f"{role}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class SessionLease:
    def __init__(
        self,
        client: redis.asyncio.Redis,
        company_id: str,
        instance: str,
        url: str,
        ttl_seconds: float = LEASE_TTL_SECONDS,
    ) -> None:
        self._client = client
        self.key = redis_keys.gateway_lease(company_id)
        self.instance = instance
        self.ttl_ms = int(ttl_seconds * 1000)
        self._value = json.dumps(
            {"instance": instance, "url": url, "process": f"{socket.gethostname()}:{os.getpid()}", "since": time.time()}
        )
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    async def acquire(self) -> bool:
        return bool(await self._client.set(self.key, self._value, nx=True, px=self.ttl_ms))

    async def renew(self) -> bool:
        """Extend our lease (or take it back if it expired unclaimed); False when someone else holds it."""
        return bool(await self._renew(keys=[self.key], args=[self.instance, self._value, self.ttl_ms]))

    async def release(self) -> None:
        await self._release(keys=[self.key], args=[self.instance])

    async def holder(self) -> LeaseHolder | None:
        return await read_holder(self._client, self.key)


async def read_holder(client: redis.asyncio.Redis, key: str) -> LeaseHolder | None:
    raw = await client.get(key)
    if raw is None:
        return None
    data: dict[str, Any] = json.loads(raw)
    return LeaseHolder(
        instance=str(data["instance"]), url=str(data["url"]), process=str(data["process"]), since=float(data["since"])
    )
