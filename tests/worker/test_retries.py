"""Transient failures are retried with backoff; permanent ones go straight to the failed registry."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import redis

from shared.queueing import inbound_queue
from tests.support.replies import answered_once
from tests.support.services import Stack
from tests.support.waiting import wait_for

CLIENT = "79001115566"


def webhook(stack: Stack, text: str, message_id: str) -> None:
    body = {"messages": [{"from": CLIENT, "message": text, "messageId": message_id}]}
    assert httpx.post(f"{stack.api_url}/webhook/whatsapp/batched", json=body, timeout=10).status_code == 200


def test_a_gateway_that_is_down_is_retried_until_the_reply_goes_out(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    stack.start("api", "worker")
    webhook(stack, "Пока шлюз лежит", "RETRY1")
    worker = stack.services["worker"]
    wait_for(lambda: "scheduled for retry" in worker.output(), 60, "the first failed attempt to be retried")
    assert "Failed to send" in worker.output()

    stack.start("wa-gateway")
    wait_for(lambda: answered_once(stack, CLIENT), 90, "the reply after the gateway came back")


def test_a_permanent_failure_is_not_retried_and_lands_in_the_failed_registry(
    make_stack: Callable[..., Stack], redis_url: str
) -> None:
    stack = make_stack(API_KEY="the-right-key-for-this-test")
    stack.services["worker"].env["API_KEY"] = "a-wrong-key-for-this-test"
    stack.start()
    webhook(stack, "Неверный ключ", "PERM1")

    queue = inbound_queue(redis.Redis.from_url(redis_url), "962302")
    wait_for(lambda: queue.failed_job_registry.count == 1, 60, "the job in the failed registry")
    worker = stack.services["worker"].output()
    assert "send proxy refused the message (401)" in worker
    assert "scheduled for retry" not in worker
    assert stack.outbox(CLIENT) == []


def test_a_batch_outlives_its_retries_when_not_even_the_apology_can_be_sent(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    stack.start("api", "worker")
    webhook(stack, "Шлюз лежит дольше всех попыток", "RETRY2")
    worker = stack.services["worker"]
    # Retries wait 5 + 15 + 30 s; then the apology fails too and the batch must be kept, not dropped.
    wait_for(lambda: "the batch is kept and tried again" in worker.output(), 120, "the last attempt to give up")

    stack.start("wa-gateway")
    replies = wait_for(lambda: stack.outbox(CLIENT), 120, "the kept batch to be answered")
    assert replies[0]["kind"] == "text"
