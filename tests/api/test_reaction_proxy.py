"""The api's reaction proxy: the receptionist's ❤️ reaches WhatsApp through the session owner, once per key."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.services import Stack

CLIENT = "79001234567"
TARGET = "3EB0C0FFEE0000000001"


@pytest.fixture
def stack(make_stack: Callable[..., Stack]) -> Iterator[Stack]:
    stack = make_stack()
    stack.start("wa-gateway", "api")
    yield stack


SESSION_ROUTE = "/api/whatsapp/sessions/962302/reaction"


def react(stack: Stack, path: str = SESSION_ROUTE, body: dict[str, object] | None = None) -> httpx.Response:
    payload = {"phone": CLIENT, "emoji": "❤️", "messageId": TARGET} | (body or {})
    return httpx.post(f"{stack.api_url}{path}", json=payload, timeout=10)


def test_a_reaction_lands_on_the_clients_message(stack: Stack) -> None:
    response = react(stack)
    assert response.status_code == 200, response.text
    assert response.json()["duplicate"] is False
    assert [(m["kind"], m["emoji"], m["messageId"]) for m in stack.outbox(CLIENT)] == [("reaction", "❤️", TARGET)]


def test_the_same_idempotency_key_reacts_once(stack: Stack) -> None:
    assert react(stack, body={"idempotencyKey": "batch7-reaction"}).json()["duplicate"] is False
    assert react(stack, body={"idempotencyKey": "batch7-reaction"}).json()["duplicate"] is True
    assert len(stack.outbox(CLIENT)) == 1


def test_the_originals_route_takes_the_company_in_the_body(stack: Stack) -> None:
    assert react(stack, "/api/whatsapp/reaction", {"companyId": "962302"}).status_code == 200
    assert react(stack, "/api/whatsapp/reaction", {"companyId": "111"}).status_code == 404
    assert react(stack, "/api/whatsapp/reaction", {"companyId": "[object Object]"}).status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [({"emoji": ""}, "emoji"), ({"messageId": "has spaces"}, "messageId"), ({"phone": None}, "phone")],
)
def test_a_malformed_reaction_is_a_422_naming_the_field(stack: Stack, body: dict[str, object], field: str) -> None:
    response = react(stack, body=body)
    assert response.status_code == 422
    assert field in response.json()["error"]
    assert stack.outbox(CLIENT) == []
