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


INVALID_SENDS: list[tuple[str, dict[str, object], str]] = [
    ("too long", {"phone": CLIENT, "message": "я" * 4097}, "message: must be at most 4096 characters long (got 4097)"),
    ("empty", {"phone": CLIENT, "message": ""}, "message: must not be empty"),
    ("whitespace only", {"phone": CLIENT, "message": " \n\t\u00a0 "}, "message: must not be blank"),
    ("no message", {"phone": CLIENT}, "message: is required"),
    ("not text", {"phone": CLIENT, "message": 5}, "message"),
    ("bad phone", {"phone": "12", "message": "hi"}, "phone"),
    ("unknown field", {"phone": CLIENT, "message": "hi", "mesage": "hi"}, "mesage: unknown field"),
]


def test_every_invalid_field_is_a_400_naming_it_on_the_proxy_and_the_gateway_and_nothing_is_sent(
    stack: Stack,
) -> None:
    """The original's contract (its validator answered 400 with {success: false, error}), for each field."""
    for url in (f"{stack.api_url}/api/whatsapp/sessions/962302/send", f"{stack.gateway_url}/send"):
        for case, body, says in INVALID_SENDS:
            response = httpx.post(url, json=body, timeout=10)
            assert (response.status_code, response.json()["success"]) == (400, False), (url, case, response.text)
            assert says in response.json()["error"], (url, case, response.text)
            assert "items" not in response.json()["error"]
    assert stack.outbox() == []


def test_a_json_body_sent_without_the_json_content_type_is_a_400_that_names_the_content_type(stack: Stack) -> None:
    body = '{"phone": "79001234567", "message": "hi"}'
    for url in (f"{stack.api_url}/api/whatsapp/sessions/962302/send", f"{stack.gateway_url}/send"):
        # curl -d without -H 'content-type: application/json' sends a form's content type.
        for content_type in ("application/x-www-form-urlencoded", "text/plain"):
            response = httpx.post(url, content=body, headers={"content-type": content_type}, timeout=10)
            assert response.status_code == 400, (url, response.text)
            assert response.json() == {
                "success": False,
                "error": "request body must be sent as JSON with Content-Type: application/json"
                f" (got Content-Type: {content_type})",
            }
    assert stack.outbox() == []


@pytest.mark.parametrize("company", ["[object Object]", "a" * 51, "company 1", "%5Bobject%20Object%5D"])
def test_a_malformed_company_id_is_a_400_like_every_invalid_field_of_this_endpoint(stack: Stack, company: str) -> None:
    response = send(stack, company=company)
    assert response.status_code == 400
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
