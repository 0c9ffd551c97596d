"""The api's send proxy maps every gateway outcome to a clear answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.services import Stack

CLIENT = "79001234567"


@pytest.fixture
def stack(make_stack: Callable[..., Stack]) -> Iterator[Stack]:
    stack = make_stack()
    stack.start("wa-gateway", "api")
    yield stack


def send(stack: Stack, company: str = "962302", **body: object) -> httpx.Response:
    payload = {"phone": CLIENT, "message": "Ваша запись подтверждена"} | body
    return httpx.post(f"{stack.api_url}/api/whatsapp/sessions/{company}/send", json=payload, timeout=10)


def test_a_send_reaches_whatsapp_and_answers_with_the_message_id(stack: Stack) -> None:
    response = send(stack)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["companyId"] == "962302"
    assert body["phone"] == CLIENT
    assert isinstance(body["timestamp"], int)
    assert [m["id"] for m in stack.outbox(CLIENT)] == [body["messageId"]]


def test_the_same_idempotency_key_sends_once_and_returns_the_first_message_id(stack: Stack) -> None:
    first = send(stack, idempotencyKey="batch1-0").json()
    second = send(stack, idempotencyKey="batch1-0").json()
    assert second["messageId"] == first["messageId"]
    assert second["duplicate"] is True
    assert len(stack.outbox(CLIENT)) == 1


def test_a_phone_the_gateway_rejects_is_a_400(stack: Stack) -> None:
    response = send(stack, phone="12")
    assert response.status_code == 400
    assert "phone" in response.json()["error"]


def test_a_disconnected_whatsapp_is_a_503_and_nothing_is_sent(stack: Stack) -> None:
    httpx.post(f"{stack.gateway_url}/simulator/event", json={"type": "stream_replaced"}, timeout=10)
    response = send(stack)
    assert response.status_code == 503
    assert "not connected" in response.json()["error"]
    assert stack.outbox(CLIENT) == []


def test_a_gateway_that_is_down_is_a_503_that_says_so(stack: Stack) -> None:
    stack.services["wa-gateway"].stop()
    response = send(stack)
    assert response.status_code == 503
    assert "wa-gateway is down" in response.json()["error"]


@pytest.mark.parametrize("company", ["[object Object]", "a" * 51, "company 1", "%5Bobject%20Object%5D"])
def test_a_malformed_company_id_is_a_422(stack: Stack, company: str) -> None:
    response = send(stack, company=company)
    assert response.status_code == 422
    assert response.json()["success"] is False


def test_a_company_this_deployment_does_not_serve_is_a_404(stack: Stack) -> None:
    response = send(stack, company="company_1")
    assert response.status_code == 404
    assert "company_1" in response.json()["error"]


class TestWithApiKey:
    KEY = "internal-key-for-tests-only"

    @pytest.fixture
    def keyed(self, make_stack: Callable[..., Stack]) -> Iterator[Stack]:
        stack = make_stack(API_KEY=self.KEY)
        stack.start("wa-gateway", "api")
        yield stack

    def test_a_send_without_the_key_is_a_401_and_nothing_is_sent(self, keyed: Stack) -> None:
        response = send(keyed)
        assert response.status_code == 401
        assert "x-api-key" in response.json()["error"]
        direct = httpx.post(f"{keyed.gateway_url}/send", json={"phone": CLIENT, "message": "hi"}, timeout=10)
        assert direct.status_code == 401
        assert keyed.outbox(CLIENT) == []

    def test_a_send_with_the_key_goes_through_the_api_to_the_gateway(self, keyed: Stack) -> None:
        response = httpx.post(
            f"{keyed.api_url}/api/whatsapp/sessions/962302/send",
            json={"phone": CLIENT, "message": "hi"},
            headers={"x-api-key": self.KEY},
            timeout=10,
        )
        assert response.status_code == 200
        assert len(keyed.outbox(CLIENT)) == 1
