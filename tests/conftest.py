"""Fixtures: the suite's own redis-server, and real service processes against it.

Never the machine's Redis on 6379: the suite starts its own on a free port and flushes only that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import structlog

from tests.support.redis_server import RedisServer
from tests.support.services import Stack


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    yield redis_server.url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def make_stack(tmp_path: Path, redis_url: str) -> Iterator[Callable[..., Stack]]:
    stacks: list[Stack] = []

    def factory(redis_url_override: str | None = None, **overrides: str) -> Stack:
        stack = Stack(tmp_path / f"stack{len(stacks)}", redis_url_override or redis_url, overrides)
        stacks.append(stack)
        return stack

    yield factory
    for stack in stacks:
        stack.stop()


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
