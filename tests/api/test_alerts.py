"""The api's alert monitor against real processes and local receivers (a webhook and a Telegram Bot API stand-in)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis

from shared import redis_keys
from shared.alerts import record_ai_fallback
from shared.queueing import FLUSH_JOB, inbound_queue
from tests.support.fakes.alert_receivers import TelegramBotApi, WebhookReceiver
from tests.support.ports import free_port
from tests.support.services import Stack
from tests.support.waiting import wait_for

COMPANY = "962302"
CHAT = "-1001234567890"


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def telegram() -> Iterator[TelegramBotApi]:
    with TelegramBotApi(chats=(CHAT,)) as bot:
        yield bot


@pytest.fixture
def alerting(
    make_stack: Callable[..., Stack], webhook: WebhookReceiver, telegram: TelegramBotApi
) -> Callable[..., Stack]:
    def factory(**overrides: str) -> Stack:
        return make_stack(
            ALERT_WEBHOOK_URL=webhook.url,
            TELEGRAM_API_URL=telegram.base_url,
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_CHAT_ID=CHAT,
            ALERT_CHECK_INTERVAL_SECONDS="0.3",
            **overrides,
        )

    return factory


def checks(client: redis.Redis) -> int:
    return int(client.hget(redis_keys.alert_checks(COMPANY), "checks") or 0)


def let_checks_pass(client: redis.Redis, count: int = 3) -> None:
    """Wait until ``count`` more checks have completed, each with its deliveries (a later one has started)."""
    target = checks(client) + count + 1
    wait_for(lambda: checks(client) >= target, 30, f"{count} more alert checks")


def conditions(received: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(alert["condition"], alert["status"]) for alert in received]


def test_a_replaced_session_alerts_once_and_resolves_once_after_reconnect(
    alerting: Callable[..., Stack], webhook: WebhookReceiver, telegram: TelegramBotApi, redis_client: redis.Redis
) -> None:
    stack = alerting()
    stack.start("wa-gateway", "api")
    wait_for(lambda: stack.gateway_health()["connected"], 20, "the session to connect")
    let_checks_pass(redis_client)
    assert webhook.received == [] and telegram.messages == []

    httpx.post(f"{stack.gateway_url}/simulator/event", json={"type": "stream_replaced"}, timeout=10)
    [fired] = wait_for(lambda: webhook.received, 30, "the replaced alert")
    assert fired["companyId"] == COMPANY
    assert fired["condition"] == "session_replaced"
    assert fired["status"] == "firing"
    assert "not answering clients" in fired["message"] and "reconnect" in fired["message"]
    assert fired["startedAt"] and fired["timestamp"]
    assert fired["details"]["status"] == "replaced"
    [sent] = wait_for(lambda: telegram.messages, 30, "the replaced alert in Telegram")
    assert sent["chat_id"] == CHAT
    assert sent["text"].startswith("🔴 WhatsApp session replaced (company 962302)")
    assert fired["message"] in sent["text"]

    # Still replaced: neither more checks nor a restarted api announce it again.
    let_checks_pass(redis_client)
    stack.restart("api")
    let_checks_pass(redis_client)
    assert conditions(webhook.received) == [("session_replaced", "firing")]
    assert len(telegram.messages) == 1

    assert httpx.post(f"{stack.gateway_url}/reconnect", timeout=10).status_code == 200
    wait_for(lambda: len(webhook.received) == 2, 30, "the resolved alert")
    wait_for(lambda: len(telegram.messages) == 2, 30, "the resolved alert in Telegram")
    let_checks_pass(redis_client)
    assert conditions(webhook.received) == [("session_replaced", "firing"), ("session_replaced", "resolved")]
    resolved = webhook.received[1]
    assert resolved["startedAt"] == fired["startedAt"]
    assert resolved["resolvedAt"] >= fired["timestamp"]
    assert telegram.messages[1]["text"].startswith("✅ Resolved: WhatsApp session replaced")


def put_in_failed_registry(client: redis.Redis) -> str:
    """A flush job as RQ leaves it after a permanent failure (the worker's own path is tested in tests/worker)."""
    queue = inbound_queue(client, COMPANY)
    job = queue.create_job(FLUSH_JOB, args=(COMPANY, "79001234567"), description="flush chat 79001234567")
    job.save()
    queue.failed_job_registry.add(job, ttl=3600, exc_string="PermanentError: the turn produced invalid data")
    return job.id


def test_a_failed_job_alerts_and_resolves_when_the_registry_is_empty(
    alerting: Callable[..., Stack], webhook: WebhookReceiver, telegram: TelegramBotApi, redis_client: redis.Redis
) -> None:
    stack = alerting()
    stack.start("api")
    job_id = put_in_failed_registry(redis_client)

    [fired] = wait_for(lambda: webhook.received, 30, "the failed-job alert")
    assert (fired["condition"], fired["status"]) == ("failed_jobs", "firing")
    assert fired["details"] == {"failedJobs": 1}
    assert "1 message job(s) failed" in fired["message"]
    wait_for(lambda: telegram.messages, 30, "the failed-job alert in Telegram")

    inbound_queue(redis_client, COMPANY).failed_job_registry.remove(job_id, delete_job=True)
    wait_for(lambda: len(webhook.received) == 2, 30, "the resolved alert")
    assert conditions(webhook.received) == [("failed_jobs", "firing"), ("failed_jobs", "resolved")]


def test_a_broken_receiver_does_not_break_the_api_and_gets_the_alert_once_it_is_back(
    alerting: Callable[..., Stack], webhook: WebhookReceiver, telegram: TelegramBotApi, redis_client: redis.Redis
) -> None:
    webhook.status = 500
    telegram.outage = 502
    stack = alerting()
    stack.start("api")
    put_in_failed_registry(redis_client)

    api = stack.services["api"]
    wait_for(lambda: webhook.refused >= 2 and telegram.refused >= 2, 30, "deliveries to be tried and refused")
    assert "Failed to send alert" in api.output()
    assert telegram.token not in api.output(), "the bot token is a secret, in errors too"
    # The api goes on serving: its health, and a client's message taken in.
    assert httpx.get(f"{stack.api_url}/health", timeout=10).status_code in (200, 503)
    message = {"from": "79001234567", "message": "Здравствуйте", "messageId": "3EB0ALERTTEST0001"}
    assert httpx.post(f"{stack.api_url}/webhook/whatsapp/batched", json=message, timeout=10).status_code == 200
    assert api.running

    webhook.status = 200
    telegram.outage = None
    wait_for(lambda: webhook.received and telegram.messages, 30, "the alert once the receivers are back")
    let_checks_pass(redis_client)
    assert conditions(webhook.received) == [("failed_jobs", "firing")]
    assert len(telegram.messages) == 1


def test_repeated_ai_fallbacks_alert_and_resolve_once_they_are_old(
    alerting: Callable[..., Stack], webhook: WebhookReceiver, redis_client: redis.Redis
) -> None:
    stack = alerting(ALERT_AI_FALLBACKS="2", ALERT_AI_FALLBACK_MINUTES="0.05")
    stack.start("api")
    record_ai_fallback(redis_client, COMPANY)
    let_checks_pass(redis_client)
    assert webhook.received == [], "one fallback is not 'repeatedly'"

    record_ai_fallback(redis_client, COMPANY)
    [fired] = wait_for(lambda: webhook.received, 30, "the AI-fallback alert")
    assert (fired["condition"], fired["status"]) == ("ai_fallbacks", "firing")
    assert fired["details"]["fallbacks"] == 2
    # ALERT_AI_FALLBACK_MINUTES (3 s here) later, fewer than two are recent.
    wait_for(lambda: len(webhook.received) == 2, 30, "the resolved alert")
    assert conditions(webhook.received) == [("ai_fallbacks", "firing"), ("ai_fallbacks", "resolved")]


def test_a_journal_backlog_alerts_and_resolves_once_it_is_delivered(
    alerting: Callable[..., Stack], webhook: WebhookReceiver, redis_client: redis.Redis
) -> None:
    stack = alerting(ALERT_BACKLOG_MINUTES="0.02")
    gateway_env = stack.services["wa-gateway"].env
    gateway_env["API_PORT"] = str(free_port())  # the gateway forwards to an api that isn't there
    stack.start("wa-gateway", "api")
    stack.client_writes("79001234567", "Здравствуйте")

    [fired] = wait_for(lambda: webhook.received, 30, "the backlog alert")
    assert (fired["condition"], fired["status"]) == ("journal_backlog", "firing")
    assert fired["details"]["backlog"] == 1
    assert "waited more than" in fired["message"]

    gateway_env["API_PORT"] = str(stack.api_port)
    stack.restart("wa-gateway")
    wait_for(lambda: len(webhook.received) == 2, 30, "the resolved alert")
    assert conditions(webhook.received) == [("journal_backlog", "firing"), ("journal_backlog", "resolved")]
