"""The worker's dispatcher turns due chats into RQ flush jobs: each due chat once, none early, none dropped."""

from __future__ import annotations

import redis

from services.worker.dispatcher import FlushDispatcher
from shared import redis_keys
from shared.batching import FlushSchedule
from shared.queueing import inbound_queue
from tests.support.waiting import wait_for

COMPANY = "962302"


def queued_chats(client: redis.Redis) -> list[str]:
    return [str(job.args[1]) for job in inbound_queue(client, COMPANY).jobs]


def dispatcher(client: redis.Redis) -> FlushDispatcher:
    return FlushDispatcher(client, inbound_queue(client, COMPANY), COMPANY, 150)


def test_each_due_chat_becomes_one_flush_job_and_leaves_the_due_set(redis_client: redis.Redis) -> None:
    schedule = FlushSchedule(redis_client, COMPANY)
    schedule.schedule("79000000001", 0)
    schedule.schedule("79000000002", 0)
    schedule.schedule("79000000003", 600)

    due = dispatcher(redis_client).dispatch_due()

    assert sorted(due.chats) == ["79000000001", "79000000002"]
    assert sorted(queued_chats(redis_client)) == ["79000000001", "79000000002"]
    assert redis_client.zrange(redis_keys.due_chats(COMPANY), 0, -1) == [b"79000000003"]
    assert due.next_in_ms is not None and due.next_in_ms > 500_000
    assert dispatcher(redis_client).dispatch_due().chats == [], "a dispatched chat is not dispatched again"


def test_a_chat_made_due_while_the_dispatcher_waits_is_dispatched(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    running = dispatcher(client)
    running.start()
    try:
        FlushSchedule(client, COMPANY).schedule("79000000001", 0)
        wait_for(lambda: queued_chats(client) == ["79000000001"], 10, "the chat's flush job")
        assert client.zcard(redis_keys.due_chats(COMPANY)) == 0
    finally:
        running.stop()
        client.close()
