"""Transient failures are retried with backoff; permanent ones go straight to the failed registry."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import redis

from shared import redis_keys
from shared.batching import FlushSchedule
from shared.queueing import inbound_queue
from tests.support.replies import answered_once
from tests.support.services import Stack
from tests.support.waiting import wait_for

CLIENT = "79001115566"


def webhook(stack: Stack, text: str, message_id: str) -> None:
    body = {"messages": [{"from": CLIENT, "message": text, "messageId": message_id}]}
    assert httpx.post(f"{stack.api_url}/webhook/whatsapp/batched", json=body, timeout=10).status_code == 200


def test_a_gateway_that_is_down_is_retried_until_the_reply_goes_out(make_stack: Callable[..., Stack]) -> None:
    # Pauses long enough for the gateway to start before the last retry, short enough not to wait long.
    stack = make_stack(JOB_RETRY_INTERVALS="2,4,8")
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


def test_a_batch_outlives_its_retries_when_not_even_the_apology_can_be_sent(
    make_stack: Callable[..., Stack], redis_client: redis.Redis
) -> None:
    stack = make_stack()
    stack.start("api", "worker")
    webhook(stack, "Шлюз лежит дольше всех попыток", "RETRY2")
    worker = stack.services["worker"]
    # The stack's retries wait 1 s each (JOB_RETRY_INTERVALS); then the apology fails too and the batch
    # must be kept, not dropped.
    wait_for(lambda: "the batch is kept and tried again" in worker.output(), 60, "the last attempt to give up")
    due = redis_keys.due_chats("962302")

    def kept_due_in() -> float | None:
        score = redis_client.zscore(due, CLIENT)
        return None if score is None else score / 1000 - time.time()

    due_in = wait_for(kept_due_in, 10, "a flush scheduled for the kept batch")
    assert 50 < due_in <= 60

    stack.start("wa-gateway")
    wait_for(lambda: stack.gateway_health()["connected"], 30, "the gateway to connect")
    # Rather than wait out the minute, the test makes the kept batch's flush due now; the worker's own
    # dispatcher runs it.
    FlushSchedule(redis_client, "962302").schedule(CLIENT, 0)
    replies = wait_for(lambda: stack.outbox(CLIENT), 60, "the kept batch to be answered")
    assert replies[0]["kind"] == "text"
