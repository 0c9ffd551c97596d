"""One owner per WhatsApp number: a second gateway, or an api hosting the session, waits on standby."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import redis

from shared import redis_keys
from tests.support.services import QUICK_TAKEOVER, Stack
from tests.support.waiting import wait_for

CLIENT = "79001234567"


def status(url: str) -> str:
    try:
        return str(httpx.get(f"{url}/health", timeout=5).json()["status"])
    except (httpx.HTTPError, ValueError):
        return "down"


def decided(url: str) -> str | None:
    current = status(url)
    return current if current in ("connected", "standby") else None


def settled(urls: list[str]) -> list[str] | None:
    statuses = [status(url) for url in urls]
    return statuses if sorted(statuses) == ["connected", "standby"] else None


def test_two_gateways_started_at_once_one_owns_the_session_and_the_other_stands_by(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(**QUICK_TAKEOVER)
    second, second_url = stack.add_gateway("wa-gateway-2")
    stack.services["wa-gateway"].start()
    second.start()
    stack.wait_ready("wa-gateway")
    wait_for(lambda: status(second_url) != "down", 30, "the second gateway")

    statuses = wait_for(lambda: settled([stack.gateway_url, second_url]), 30, "one owner and one standby")
    owner_url, standby_url = (
        (stack.gateway_url, second_url) if statuses[0] == "connected" else (second_url, stack.gateway_url)
    )
    standby = httpx.get(f"{standby_url}/health", timeout=5).json()
    assert "another process owns this WhatsApp number" in standby["reason"]
    assert standby["connected"] is False

    # The api finds the owner through the lease, whichever it is.
    stack.start("api")
    response = httpx.post(
        f"{stack.api_url}/api/whatsapp/sessions/962302/send", json={"phone": CLIENT, "message": "hi"}, timeout=10
    )
    assert response.status_code == 200
    owner_outbox = httpx.get(f"{owner_url}/simulator/outbox", timeout=5).json()["messages"]
    assert [m["id"] for m in owner_outbox] == [response.json()["messageId"]]
    assert httpx.get(f"{standby_url}/simulator/outbox", timeout=5).json()["messages"] == []

    # Only when the owner is gone does the standby take over.
    owner = stack.services["wa-gateway"] if owner_url == stack.gateway_url else second
    owner.stop()
    wait_for(lambda: status(standby_url) == "connected", 40, "the standby to take over")


def test_an_api_with_standalone_false_and_a_gateway_never_both_own_the_session(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(WA_STANDALONE="false", **QUICK_TAKEOVER)
    stack.services["wa-gateway"].start()
    stack.services["api"].start()
    stack.wait_ready("wa-gateway")
    stack.wait_ready("api")

    hosted = f"{stack.api_url}/wa"
    statuses = wait_for(lambda: settled([stack.gateway_url, hosted]), 30, "one owner and one standby")
    assert statuses.count("connected") == 1
    assert "hosts the WhatsApp session itself" in stack.services["api"].output()


def steal_lease(client: redis.Redis) -> None:
    thief = {"instance": "thief", "url": "http://127.0.0.1:9", "process": "elsewhere:1", "since": 0}
    client.set(redis_keys.gateway_lease("962302"), json.dumps(thief), px=60_000)


def test_an_owner_that_loses_its_lease_stops_and_stands_by_until_it_is_free(
    make_stack: Callable[..., Stack], redis_client: redis.Redis
) -> None:
    stack = make_stack(**QUICK_TAKEOVER)
    stack.start("wa-gateway")
    steal_lease(redis_client)
    wait_for(lambda: status(stack.gateway_url) == "standby", 20, "the gateway to give up the session")
    assert "lease lost" in stack.services["wa-gateway"].output()
    redis_client.delete(redis_keys.gateway_lease("962302"))
    wait_for(lambda: status(stack.gateway_url) == "connected", 20, "the gateway to take the free lease")


def test_a_replaced_session_stays_down_whatever_happens_to_the_lease(
    make_stack: Callable[..., Stack], redis_client: redis.Redis
) -> None:
    stack = make_stack(**QUICK_TAKEOVER)
    stack.start("wa-gateway")
    replaced = stack.services["wa-gateway"]
    httpx.post(f"{stack.gateway_url}/simulator/event", json={"type": "stream_replaced"}, timeout=10)
    steal_lease(redis_client)
    wait_for(lambda: "lease lost" in replaced.output(), 20, "the lease loss to be noticed")
    # Sent back to standby, it would be waiting for the stolen lease and say so at once.
    assert status(stack.gateway_url) == "replaced"

    # The lease is free for the taking, and another gateway, not the replaced one, takes it.
    redis_client.delete(redis_keys.gateway_lease("962302"))
    second, second_url = stack.add_gateway("wa-gateway-2")
    second.start()
    assert wait_for(lambda: decided(second_url), 30, "the other gateway to connect or stand by") == "connected"
    health = httpx.get(f"{stack.gateway_url}/health", timeout=5).json()
    assert health["status"] == "replaced"
    assert health["metrics"]["failedReconnects"] == 0
    assert "WhatsApp connected" not in replaced.output().split("Connection replaced (440)")[-1]

    # Only the operator brings it back, once the number is free again.
    second.stop()
    assert httpx.post(f"{stack.gateway_url}/reconnect", timeout=10).status_code == 200
    wait_for(lambda: status(stack.gateway_url) == "connected", 20, "the operator's reconnect")
