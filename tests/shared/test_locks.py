"""The one Redis lock: one holder at a time, extended only by its holder, never taken back once released."""

from __future__ import annotations

import asyncio

import redis

from shared.locks import AsyncRedisLock, RedisLock
from shared.redis_client import async_client

KEY = "ai-admin:test-lock"


def test_a_lock_admits_one_holder_and_lets_that_holder_extend_it(redis_client: redis.Redis) -> None:
    first = RedisLock(redis_client, KEY, "execution-a", 10_000)
    second = RedisLock(redis_client, KEY, "execution-b", 10_000)
    assert first.acquire()
    assert not second.acquire()
    assert first.acquire(), "the holder extends its own lock"
    assert not second.release(), "someone else's release leaves the lock alone"
    assert not second.acquire()
    assert first.release()
    assert second.acquire()


def test_a_released_lock_is_not_renewed_back(redis_client: redis.Redis) -> None:
    lock = RedisLock(redis_client, KEY, "execution-1", 30_000)
    assert lock.acquire()
    assert lock.renew()
    lock.release()
    assert not lock.renew()
    assert RedisLock(redis_client, KEY, "execution-2", 30_000).acquire(), "the next execution gets it"


def test_a_lock_whose_ttl_ran_out_belongs_to_the_next_taker(redis_client: redis.Redis) -> None:
    stale = RedisLock(redis_client, KEY, "stale", 30_000)
    assert stale.acquire()
    redis_client.delete(KEY)  # what expiry does
    assert RedisLock(redis_client, KEY, "next", 30_000).acquire()
    assert not stale.renew()
    assert not stale.release()
    assert redis_client.get(KEY) == b"next"


def test_the_async_lock_follows_the_same_rules(redis_url: str) -> None:
    async def scenario() -> list[bool]:
        client = async_client(redis_url)
        try:
            first = AsyncRedisLock(client, KEY, "owner-a", 10_000)
            second = AsyncRedisLock(client, KEY, "owner-b", 10_000)
            return [
                await first.acquire(),
                await second.acquire(),
                await first.renew(),
                await first.release(),
                await second.renew(),
                await second.acquire(),
            ]
        finally:
            await client.aclose()

    assert asyncio.run(scenario()) == [True, False, True, True, False, True]
