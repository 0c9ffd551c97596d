"""Redis connections, and the start-up check that fails with one line naming REDIS_URL."""

from __future__ import annotations

import redis
import redis.asyncio

from shared.errors import ConfigurationError

SOCKET_TIMEOUT_SECONDS = 10.0


def sync_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=SOCKET_TIMEOUT_SECONDS, socket_connect_timeout=5, health_check_interval=30
    )


def async_client(url: str) -> redis.asyncio.Redis:
    return redis.asyncio.Redis.from_url(
        url, socket_timeout=SOCKET_TIMEOUT_SECONDS, socket_connect_timeout=5, health_check_interval=30
    )


def check_reachable(url: str) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        raise ConfigurationError(f"REDIS_URL: cannot reach Redis at {_without_password(url)}: {error}") from None
    finally:
        client.close()


def _without_password(url: str) -> str:
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
