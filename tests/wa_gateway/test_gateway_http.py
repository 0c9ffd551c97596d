"""The gateway's HTTP surface, against a real gateway process with the simulator transport."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import redis

from shared.redis_keys import gateway_lease
from shared.wire import LeaseHolder
from tests.support.services import Stack
from tests.support.waiting import wait_for

CLIENT = "79001234567"


@pytest.fixture
def gateway(make_stack: Callable[..., Stack]) -> Iterator[Stack]:
    stack = make_stack()
    stack.start("wa-gateway")
    yield stack


def post(stack: Stack, path: str, body: object) -> httpx.Response:
    return httpx.post(stack.gateway_url + path, json=body, timeout=10)


def test_health_has_the_originals_fields(gateway: Stack) -> None:
    health = gateway.gateway_health()
    assert {"service", "companyId", "status", "connected", "phoneNumber", "metrics"} <= set(health)
    assert {"totalSessions", "activeConnections", "messagesSent", "messagesReceived", "errors"} <= set(
        health["metrics"]
    )
    assert health["journal"]["backlog"] == 0


def test_send_answers_with_the_whatsapp_message_id(gateway: Stack) -> None:
    response = post(gateway, "/send", {"phone": "+7 900 123 45 67", "message": "Добрый день"})
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "success": True,
        "messageId": body["messageId"],
        "phone": CLIENT,
        "companyId": "962302",
        "duplicate": False,
    }
    assert gateway.outbox(CLIENT)[0]["text"] == "Добрый день"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"phone": "12", "message": "hi"}, "phone"),
        ({"phone": CLIENT, "message": ""}, "message"),
        ({"phone": CLIENT, "message": "x" * 4097}, "message"),
        ({"phone": CLIENT}, "message"),
        ({"phone": CLIENT, "message": "hi", "extra": 1}, "unknown field"),
        ({"phone": 79001234567, "message": "hi"}, "phone"),
    ],
)
def test_a_bad_send_is_a_400_that_names_the_problem(gateway: Stack, body: dict[str, object], says: str) -> None:
    response = post(gateway, "/send", body)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert says in response.json()["error"]
    assert gateway.outbox() == []


def test_a_replaced_session_is_not_reconnected_and_sending_is_a_503(gateway: Stack) -> None:
    post(gateway, "/simulator/event", {"type": "stream_replaced"})
    health = gateway.gateway_health()
    assert health["status"] == "replaced"
    assert health["connected"] is False
    response = post(gateway, "/send", {"phone": CLIENT, "message": "hi"})
    assert response.status_code == 503
    assert "not connected" in response.json()["error"]
    # The 440 was handled before either request was answered. A reconnect started then would have
    # connected at once or, with a backoff to wait out, logged that it is reconnecting.
    after_440 = gateway.services["wa-gateway"].output().split("Connection replaced (440)")
    assert len(after_440) == 2
    assert "Reconnecting to WhatsApp" not in after_440[1]
    assert "WhatsApp connected" not in after_440[1]
    assert gateway.gateway_health()["metrics"]["failedReconnects"] == 0


def test_only_an_operator_reconnect_resumes_a_replaced_session(gateway: Stack) -> None:
    post(gateway, "/simulator/event", {"type": "stream_replaced"})
    assert post(gateway, "/reconnect", {}).status_code == 200
    wait_for(lambda: gateway.gateway_health()["connected"], 10, "the session to reconnect")


def test_a_logged_out_session_reports_logged_out(gateway: Stack) -> None:
    post(gateway, "/simulator/event", {"type": "logged_out"})
    assert gateway.gateway_health()["status"] == "logged_out"


def test_a_transient_disconnect_is_reconnected(gateway: Stack) -> None:
    post(gateway, "/simulator/event", {"type": "disconnected"})
    wait_for(lambda: gateway.gateway_health()["connected"], 10, "the session to reconnect")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/simulator/inbound", {"from": "+", "message": "hi"}),
        ("/simulator/inbound", {"from": CLIENT}),
        ("/simulator/event", {"type": "explode"}),
        ("/reaction", {"phone": CLIENT, "emoji": "❤️"}),
    ],
)
def test_bad_input_to_other_endpoints_is_a_400(gateway: Stack, path: str, body: dict[str, object]) -> None:
    response = post(gateway, path, body)
    assert response.status_code == 400
    assert response.json()["success"] is False


def test_malformed_json_and_huge_bodies_are_refused(gateway: Stack) -> None:
    bad = httpx.post(gateway.gateway_url + "/send", content=b"{", headers={"content-type": "application/json"})
    assert bad.status_code == 400
    assert "JSON" in bad.json()["error"]
    huge = httpx.post(gateway.gateway_url + "/send", content=b"x" * (1024 * 1024 + 1))
    assert huge.status_code == 413


def test_the_salons_own_messages_are_not_forwarded(gateway: Stack) -> None:
    post(gateway, "/simulator/inbound", {"from": "79990000000", "message": "sent from the salon's phone"})
    assert gateway.gateway_health()["metrics"]["messagesReceived"] == 0
    assert gateway.gateway_health()["journal"]["backlog"] == 0


def test_connection_events_are_published_and_the_api_logs_them(
    make_stack: Callable[..., Stack], redis_url: str
) -> None:
    stack = make_stack()
    stack.start("wa-gateway", "api")
    subscriber = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
    subscriber.subscribe("whatsapp:events")
    post(stack, "/simulator/event", {"type": "stream_replaced"})

    message = wait_for(lambda: subscriber.get_message(timeout=1), 10, "an event on whatsapp:events")
    event = json.loads(message["data"])
    assert event["type"] == "connection_replaced"
    assert event["companyId"] == "962302"
    wait_for(lambda: "connection_replaced" in stack.services["api"].output(), 10, "the api to log the event")
    subscriber.close()


def test_qr_endpoints_say_why_there_is_no_qr_and_pairing_by_code_needs_neonize(gateway: Stack) -> None:
    for path in ("/qr", "/qr.txt"):
        response = httpx.get(gateway.gateway_url + path, timeout=10)
        assert response.status_code == 404
        assert "already connected" in response.json()["error"]
    pair = post(gateway, "/pair", {"phone": CLIENT})
    assert pair.status_code == 409
    assert "WA_TRANSPORT=neonize" in pair.json()["error"]


def test_typing_indicator_is_accepted_while_connected(gateway: Stack) -> None:
    assert post(gateway, "/typing", {"phone": CLIENT, "state": "composing"}).status_code == 200
    assert post(gateway, "/typing", {"phone": CLIENT, "state": "dancing"}).status_code == 400


def test_a_standby_gateway_says_the_qr_is_shown_by_the_process_that_owns_the_number(
    make_stack: Callable[..., Stack], redis_client: redis.Redis
) -> None:
    holder = LeaseHolder(instance="the-owner", url="http://127.0.0.1:9", process="elsewhere:1", since=time.time())
    redis_client.set(gateway_lease("962302"), holder.to_json(), px=60_000)
    stack = make_stack()
    stack.start("wa-gateway")
    wait_for(lambda: stack.gateway_health()["status"] == "standby", 10, "the gateway to stand by")
    response = httpx.get(stack.gateway_url + "/qr", timeout=10)
    assert response.status_code == 404
    error = response.json()["error"]
    assert "standby" in error
    assert "elsewhere:1" in error
    assert "the process that owns the number" in error
    assert "/reconnect" not in error
