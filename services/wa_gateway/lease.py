"""One owner per WhatsApp number, enforced through Redis.

Before it connects, a session owner takes ``ai-admin:wa:lease:<company>`` with SET NX and a TTL, holding its
instance id and the URL where it serves /send. It renews the lease while it runs and gives it up on
shutdown. Anyone else (a second gateway, or an api with WA_STANDALONE=false) waits on standby and
takes over only when the lease expires. An owner that can't renew for a whole TTL stops its session
before anyone else could take the lease: at most one process is connected at any time.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

import redis.asyncio

from shared import redis_keys
from shared.locks import AsyncRedisLock
from shared.wire import LeaseHolder

LEASE_TTL_SECONDS = 15
"""Short enough that a crashed owner is replaced quickly, long enough to ride out a Redis blip."""


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
        # The whole JSON is the lock's token: it never changes while this process lives.
        holder = LeaseHolder(
            instance=instance, url=url, process=f"{socket.gethostname()}:{os.getpid()}", since=time.time()
        )
        self._lock = AsyncRedisLock(client, self.key, holder.to_json(), self.ttl_ms)

    async def renew(self) -> bool:
        """Extend our lease (or take it back if it expired unclaimed); False when someone else holds it."""
        return await self._lock.acquire()

    async def release(self) -> None:
        await self._lock.release()

    async def holder(self) -> LeaseHolder | None:
        raw = await self._client.get(self.key)
        return None if raw is None else LeaseHolder.decode(raw)
