"""No message lost, no reply sent twice: each test breaks a real process and counts the replies.

"Answered exactly once" means the client's outbox holds exactly the messages the worker logged for
its batches ("Batch answered", with the number of parts), none twice, whatever the receptionist said.
It is checked again once the stack is at rest (``Stack.at_rest``): nothing queued, scheduled or
running is left that could still send a second copy.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx
import pytest
import redis
from rq import Worker

from shared.queueing import inbound_queue
from tests.support.redis_server import RedisServer
from tests.support.replies import answered_once
from tests.support.services import QUICK_ABANDON, QUICK_TAKEOVER, Stack, running
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow


def processing_lines(stack: Stack) -> list[dict[str, object]]:
    return [json.loads(line) for line in stack.log_lines("worker") if '"Processing message"' in line]


def test_messages_that_arrive_while_the_api_is_down_are_kept_through_failed_deliveries_and_all_answered_once(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    stack.start()
    stack.services["api"].stop()
    phones = [f"7900{index:07d}" for index in range(100)]
    for index, phone in enumerate(phones):
        stack.client_writes(phone, f"Сообщение номер {index}")
    assert stack.gateway_health()["journal"]["backlog"] == 100
    # Enough failed deliveries for the backoff to reach its longest pause (FORWARD_RETRY_MAX_SECONDS).
    failed = stack.gateway_health()["journal"]["failedAttempts"]
    wait_for(lambda: stack.gateway_health()["journal"]["failedAttempts"] >= failed + 5, 60, "five failed deliveries")
    assert stack.gateway_health()["journal"]["backlog"] == 100

    stack.services["api"].start()
    stack.wait_ready("api")

    for phone in phones:
        wait_for(partial(answered_once, stack, phone), 180, f"a reply to {phone}")
    wait_for(stack.at_rest, 60, "the stack to be at rest")
    assert all(answered_once(stack, phone) for phone in phones)


def pid_answering(stack: Stack, phone: str) -> int:
    """The worker process running the job that is answering ``phone`` (from RQ: whose execution it is)."""
    job_id = next(line["job_id"] for line in reversed(processing_lines(stack)) if line.get("chat") == phone)
    client = redis.Redis.from_url(stack.redis_url)
    try:
        queue = inbound_queue(client, "962302")
        workers = Worker.all(connection=client, queue=queue)
        busy = [worker.pid for worker in workers if any(e.job_id == job_id for e in worker.get_current_executions())]
    finally:
        client.close()
    assert len(busy) == 1 and busy[0] is not None, f"job {job_id} runs in {busy}"
    return busy[0]


@pytest.mark.parametrize(
    "how", ["the worker and its processes", "the worker's main process only", "the answering process"]
)
def test_a_worker_killed_in_the_middle_of_a_job_answers_the_batch_exactly_once(
    make_stack: Callable[..., Stack], how: str
) -> None:
    # A long pause between the reply's parts gives the test a moment inside the job to kill it; the
    # price list is answered in two parts (the list, then "Чем ещё могу помочь?").
    stack = make_stack(REPLY_PART_GAP_SECONDS="5", **QUICK_ABANDON)
    stack.start()
    phone = "79001110001"
    stack.client_writes(phone, "Какие у вас цены?")

    wait_for(lambda: len(stack.outbox(phone)) == 1, 60, "the first part of the reply")
    worker = stack.services["worker"]
    processes = stack.worker_processes()
    if how == "the worker and its processes":
        worker.kill()  # the job dies half done; RQ finds it abandoned and runs it again
    elif how == "the worker's main process only":
        # The kernel sends its processes SIGTERM (the parent-death signal): the one answering finishes the job
        # and exits, beside the worker started again below.
        worker.kill_main_process_only()
    else:
        # The pool starts another process; RQ finds the job abandoned and any process runs it again.
        os.kill(pid_answering(stack, phone), signal.SIGKILL)
    assert len(stack.outbox(phone)) == 1

    if how != "the answering process":
        worker.start()
        stack.wait_ready("worker")
    # A killed process leaves its chat lock to expire (CHAT_LOCK_TTL_SECONDS) before the retry may answer the chat.
    wait_for(lambda: answered_once(stack, phone), 120, "the rest of the reply")
    # The orphaned process, or RQ's retry of the abandoned job, has had every chance to send again.
    wait_for(stack.at_rest, 60, "every job to finish, the abandoned one included")
    wait_for(lambda: not any(running(pid) for pid in processes - stack.worker_processes()), 60, "orphans to exit")
    assert answered_once(stack, phone)


def test_the_same_webhook_twice_and_the_same_whatsapp_message_twice_get_one_reply(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    stack.start()

    webhook_phone = "79001110002"
    body = {"companyId": "962302", "messages": [{"from": webhook_phone, "message": "Дубль вебхука", "messageId": "W1"}]}
    for _ in range(2):
        assert httpx.post(f"{stack.api_url}/webhook/whatsapp/batched", json=body, timeout=10).status_code == 200

    whatsapp_phone = "79001110003"
    stack.client_writes(whatsapp_phone, "Дубль от WhatsApp", message_id="3EB0DUPLICATE1")
    stack.client_writes(whatsapp_phone, "Дубль от WhatsApp", message_id="3EB0DUPLICATE1")

    wait_for(lambda: answered_once(stack, webhook_phone), 60, "the webhook's reply")
    wait_for(lambda: answered_once(stack, whatsapp_phone), 60, "the message's reply")
    # Every flush the duplicates scheduled has run, so a second reply would be in the outbox by now.
    wait_for(stack.at_rest, 60, "the stack to be at rest")
    assert answered_once(stack, webhook_phone)
    assert answered_once(stack, whatsapp_phone)
    assert len(processing_lines(stack)) == 2


def test_a_gateway_restarted_with_a_backlog_in_its_journal_loses_nothing(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(**QUICK_TAKEOVER)
    stack.start()
    stack.services["api"].stop()
    phones = [f"7900222{index:04d}" for index in range(5)]
    for index, phone in enumerate(phones):
        stack.client_writes(phone, f"Журнал {index}")
    assert stack.gateway_health()["journal"]["backlog"] == 5

    stack.services["wa-gateway"].kill()
    stack.services["wa-gateway"].start()
    stack.wait_ready("wa-gateway")
    assert stack.gateway_health()["journal"]["backlog"] == 5
    # The killed owner's lease has to expire before the new process may connect and send the replies.
    wait_for(lambda: stack.gateway_health()["connected"], 30, "the restarted gateway to own the session")

    stack.services["api"].start()
    stack.wait_ready("api")
    for phone in phones:
        wait_for(partial(answered_once, stack, phone), 90, f"a reply to {phone}")
    wait_for(stack.at_rest, 60, "the stack to be at rest")
    assert all(answered_once(stack, phone) for phone in phones)


def test_ten_messages_in_two_seconds_from_one_chat_are_one_batch_and_one_ai_turn(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(BATCH_IDLE_SECONDS="4")
    stack.start()
    phone = "79001110004"
    for index in range(10):
        stack.client_writes(phone, f"часть{index}")
        time.sleep(0.2)

    wait_for(lambda: answered_once(stack, phone), 60, "the batch's reply")
    wait_for(stack.at_rest, 60, "the stack to be at rest")
    assert answered_once(stack, phone)
    lines = processing_lines(stack)
    assert len(lines) == 1
    assert lines[0]["batch_size"] == 10


def test_a_batch_survives_a_restart_of_the_appendonly_redis_between_enqueue_and_processing(
    make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    server = RedisServer(tmp_path / "aof-redis", appendonly=True)
    server.start()
    try:
        stack = make_stack(redis_url_override=server.url)
        stack.start()
        stack.services["worker"].stop()
        phone = "79001110005"
        stack.client_writes(phone, "Переживёт перезапуск Redis")
        client = server.client()
        wait_for(lambda: client.keys("ai-admin:rapid-fire:*"), 30, "the message to be stored in Redis")
        client.close()

        server.kill()
        server.start()

        stack.services["worker"].start()
        stack.wait_ready("worker")
        wait_for(lambda: answered_once(stack, phone), 120, "the reply")
    finally:
        server.stop()
