"""The per-chat batch buffer in Redis: atomic ingest, idle window, crash-safe in-flight batch."""

from __future__ import annotations

import time

import redis

from shared import redis_keys
from shared.batching import BatchStore, FlushSchedule
from shared.wire import InboundMessage

COMPANY = "962302"
CHAT = "79001234567"


def message(message_id: str, text: str = "hi") -> InboundMessage:
    return InboundMessage(from_=CHAT, message=text, message_id=message_id, push_name="Аня")


def ingest(store: BatchStore, client: redis.Redis, *messages: InboundMessage) -> list[int]:
    return store.ingest(COMPANY, messages)


def test_a_redelivered_message_id_is_stored_once(redis_client: redis.Redis) -> None:
    store = BatchStore(redis_client, idle_seconds=0, max_messages=10)
    assert ingest(store, redis_client, message("m1"), message("m1")) == [1, -1]
    assert ingest(store, redis_client, message("m1")) == [-1]
    batch = store.take(COMPANY, CHAT).batch
    assert batch is not None and [m.message_id for m in batch.messages] == ["m1"]


def test_a_batch_waits_for_the_chat_to_fall_silent(redis_client: redis.Redis) -> None:
    store = BatchStore(redis_client, idle_seconds=0.5, max_messages=10)
    ingest(store, redis_client, message("m1", "Здравствуйте"), message("m2", "на завтра"))
    waiting = store.take(COMPANY, CHAT)
    assert waiting.outcome == "wait"
    assert 0 < waiting.wait_ms <= 500
    time.sleep(waiting.wait_ms / 1000 + 0.05)
    taken = store.take(COMPANY, CHAT)
    assert taken.batch is not None
    assert taken.batch.text == "Здравствуйте на завтра"
    assert taken.batch.last_message_id == "m2"


def test_a_full_buffer_is_taken_without_waiting_and_only_up_to_the_maximum(redis_client: redis.Redis) -> None:
    store = BatchStore(redis_client, idle_seconds=60, max_messages=3)
    ingest(store, redis_client, *(message(f"m{i}") for i in range(5)))
    first = store.take(COMPANY, CHAT).batch
    assert first is not None and len(first.messages) == 3
    store.finish(first)
    assert store.take(COMPANY, CHAT).outcome == "wait"


def test_an_unfinished_batch_is_handed_out_again_with_the_same_id(redis_client: redis.Redis) -> None:
    store = BatchStore(redis_client, idle_seconds=0, max_messages=10)
    ingest(store, redis_client, message("m1"))
    first = store.take(COMPANY, CHAT).batch
    ingest(store, redis_client, message("m2"))
    again = store.take(COMPANY, CHAT).batch
    assert first is not None and again is not None
    assert again.id == first.id
    assert [m.message_id for m in again.messages] == ["m1"]
    assert store.finish(again)
    after = store.take(COMPANY, CHAT).batch
    assert after is not None and [m.message_id for m in after.messages] == ["m2"]


def test_an_empty_chat_has_nothing_to_take(redis_client: redis.Redis) -> None:
    store = BatchStore(redis_client, idle_seconds=0, max_messages=10)
    assert store.take(COMPANY, CHAT).outcome == "empty"


def test_an_ingest_makes_the_chat_due_after_the_batch_window(redis_client: redis.Redis) -> None:
    store = BatchStore(redis_client, idle_seconds=30, max_messages=10)
    schedule = FlushSchedule(redis_client, COMPANY)
    ingest(store, redis_client, message("m1"))
    due = schedule.due(10)
    assert due.chats == []
    assert due.next_in_ms is not None and 29_000 < due.next_in_ms <= 30_000
    assert redis_client.llen(redis_keys.flush_wakeup(COMPANY)) == 1, "the dispatcher is woken"


def test_a_duplicate_still_makes_its_chat_due(redis_client: redis.Redis) -> None:
    store = BatchStore(redis_client, idle_seconds=0, max_messages=10)
    schedule = FlushSchedule(redis_client, COMPANY)
    ingest(store, redis_client, message("m1"))
    redis_client.delete(redis_keys.due_chats(COMPANY))  # as if the answer to the first attempt was lost
    assert ingest(store, redis_client, message("m1")) == [-1]
    assert schedule.due(10).chats == [CHAT]


def test_a_full_buffer_is_due_at_once_whatever_the_window(redis_client: redis.Redis) -> None:
    store = BatchStore(redis_client, idle_seconds=600, max_messages=3)
    schedule = FlushSchedule(redis_client, COMPANY)
    ingest(store, redis_client, *(message(f"m{i}") for i in range(3)))
    assert schedule.due(10).chats == [CHAT]


def test_rescheduling_replaces_a_chats_due_time_and_wakes_the_dispatcher_once(redis_client: redis.Redis) -> None:
    schedule = FlushSchedule(redis_client, COMPANY)
    schedule.schedule(CHAT, 0)
    schedule.schedule(CHAT, 60)
    assert schedule.due(10).chats == []
    schedule.schedule("79007654321", 0)
    assert schedule.due(10).chats == ["79007654321"]
    assert redis_client.llen(redis_keys.flush_wakeup(COMPANY)) == 1, "the wakeup list never grows"
