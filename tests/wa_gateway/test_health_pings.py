"""The original's pub/sub health check, against a real gateway process and a real Redis subscriber."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis
from redis.client import PubSub

from shared.redis_keys import EVENTS_CHANNEL, HEALTH_CHANNEL
from tests.support.services import Stack
from tests.support.waiting import wait_for


@pytest.fixture
def health_channel(redis_url: str) -> Iterator[PubSub]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
    pubsub.subscribe(HEALTH_CHANNEL)
    yield pubsub
    pubsub.close()
    client.close()


def next_answer(pubsub: PubSub) -> dict[str, Any]:
    message = wait_for(lambda: pubsub.get_message(timeout=1), 15, f"an answer on {HEALTH_CHANNEL}")
    answer: dict[str, Any] = json.loads(message["data"])
    return answer


def test_a_ping_on_the_events_channel_is_answered_with_a_pong_and_nothing_else_is(
    make_stack: Callable[..., Stack], redis_client: redis.Redis, health_channel: PubSub
) -> None:
    stack = make_stack()
    stack.start("wa-gateway")
    wait_for(
        lambda: dict(redis_client.pubsub_numsub(EVENTS_CHANNEL)).get(EVENTS_CHANNEL.encode(), 0) >= 1,
        15,
        f"the gateway to subscribe to {EVENTS_CHANNEL}",
    )

    before = int(time.time() * 1000)
    redis_client.publish(EVENTS_CHANNEL, json.dumps({"type": "ping", "testId": "probe-1"}))
    pong = next_answer(health_channel)
    assert pong.pop("timestamp") >= before
    assert pong == {"type": "pong", "testId": "probe-1", "service": "wa-gateway"}

    # The gateway's own event on the same channel, a pong, a stranger's message and garbage: no answer.
    httpx.post(f"{stack.gateway_url}/simulator/event", json={"type": "stream_replaced"}, timeout=10)
    redis_client.publish(EVENTS_CHANNEL, json.dumps({"type": "pong", "testId": "x", "service": "other"}))
    redis_client.publish(EVENTS_CHANNEL, json.dumps({"type": "connection_replaced", "companyId": "962302"}))
    redis_client.publish(EVENTS_CHANNEL, b"\xff not json")
    # Handled in the order published, so the next answer is this ping's, or something else was answered.
    redis_client.publish(EVENTS_CHANNEL, json.dumps({"type": "ping", "testId": 2}))
    pong = next_answer(health_channel)
    assert (pong["type"], pong["testId"]) == ("pong", 2)
    assert health_channel.get_message(timeout=0.5) is None

    assert stack.services["wa-gateway"].running
    assert "Traceback" not in stack.services["wa-gateway"].output()
