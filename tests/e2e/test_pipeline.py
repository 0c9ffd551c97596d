"""A client's message travels gateway → api → Redis/RQ → worker → api → gateway, as real processes."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from tests.support.services import Stack
from tests.support.waiting import wait_for

CLIENT = "79001234567"


def test_a_message_injected_into_the_simulator_gets_its_reply_in_the_outbox(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    stack.start()

    message_id = stack.client_writes(CLIENT, "Хочу записаться на маникюр", push_name="Аня")

    replies = wait_for(lambda: stack.outbox(CLIENT), 60, "a reply in the simulator's outbox")
    assert replies[0]["to"] == CLIENT
    assert replies[0]["kind"] == "text"
    # The receptionist greets by the WhatsApp profile name and answers about the service asked for.
    assert "Аня" in replies[0]["text"]
    assert "маникюр" in replies[0]["text"].lower()

    # One grep for the message id follows it through all three services.
    for service, phrase in (
        ("wa-gateway", "New message from"),
        ("wa-gateway", "Message forwarded to webhook"),
        ("api", "Message queued for the worker"),
        ("worker", "Processing message"),
    ):
        lines = [json.loads(line) for line in stack.log_lines(service) if message_id in line]
        assert any(line["event"] == phrase for line in lines), f"{service} never logged {phrase!r}"
        assert all(line.get("company_id") == "962302" for line in lines if line["event"] == phrase)


def test_the_gateways_message_sent_line_carries_the_batch_and_message_the_worker_logged(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    stack.start()
    message_id = stack.client_writes(CLIENT, "Сколько стоит маникюр?")
    wait_for(lambda: stack.outbox(CLIENT), 60, "a reply in the simulator's outbox")

    def lines(service: str, event: str) -> list[dict[str, object]]:
        return [entry for entry in map(json.loads, stack.log_lines(service)) if entry["event"] == event]

    processing = next(line for line in lines("worker", "Processing message") if line.get("message_id") == message_id)
    sent = wait_for(lambda: lines("wa-gateway", "Message sent"), 30, "the gateway's 'Message sent' line")
    # One grep for the batch id (or the client's message id) reaches the gateway's line for the reply.
    assert sent[0]["batch_id"] == processing["batch_id"]
    assert sent[0]["message_id"] == message_id
    assert sent[0]["author"] == "bot"
    assert sent[0]["wa_message_id"] == stack.outbox(CLIENT)[0]["id"]


def test_every_service_reports_healthy_once_the_stack_is_up(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    stack.start()

    gateway = stack.gateway_health()
    assert gateway["service"] == "wa-gateway"
    assert gateway["companyId"] == "962302"
    assert gateway["connected"] is True
    assert set(gateway["metrics"]) >= {
        "totalSessions",
        "activeConnections",
        "messagesSent",
        "messagesReceived",
        "errors",
    }

    api = httpx.get(f"{stack.api_url}/health", timeout=10)
    assert api.status_code == 200
    assert api.json()["failing"] == []


def test_with_secrets_set_the_gateway_signs_and_the_worker_authenticates(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(API_KEY="k" * 32, WEBHOOK_SECRET="w" * 32)
    stack.start()
    stack.client_writes(CLIENT, "Подписанный вебхук")
    wait_for(lambda: stack.outbox(CLIENT), 60, "a reply in the simulator's outbox")
    for service in ("wa-gateway", "api", "worker"):
        assert "k" * 32 not in stack.services[service].output()
        assert "w" * 32 not in "\n".join(stack.log_lines(service))


def test_a_clients_reaction_reaches_the_api_and_is_not_answered(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(WEBHOOK_SECRET="w" * 32)
    stack.start()
    response = httpx.post(
        f"{stack.gateway_url}/simulator/reaction",
        json={"from": CLIENT, "emoji": "❤️", "messageId": "3EB0REACTED"},
        timeout=10,
    )
    assert response.status_code == 200
    wait_for(lambda: "Reaction from" in stack.services["api"].output(), 30, "the api to log the reaction")
    assert "3EB0REACTED" in (stack.root / "log" / "api.json.log").read_text()
    assert stack.outbox(CLIENT) == []
