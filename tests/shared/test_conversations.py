"""The conversation store: each chat's transcript, its AI pause and each turn's commands, written idempotently."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from shared.conversations import Author, ConversationStore

CLIENT = "79001234567"
OTHER = "79007654321"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    store = ConversationStore(tmp_path / "conversations.sqlite")
    yield store
    store.close()


def in_minutes(minutes: int) -> int:
    return int(time.time() * 1000) + minutes * 60_000


def test_a_redelivered_message_is_stored_once(store: ConversationStore) -> None:
    assert store.record_inbound(CLIENT, "Здравствуйте", "M1", name="Аня") is True
    assert store.record_inbound(CLIENT, "Здравствуйте", "M1", name="Аня") is False
    assert [entry.text for entry in store.transcript(CLIENT)] == ["Здравствуйте"]


def test_a_retried_reply_is_stored_once_under_its_idempotency_key(store: ConversationStore) -> None:
    store.record_inbound(CLIENT, "Сколько стоит маникюр?", "M1")
    for _ in range(2):
        store.record_outbound(CLIENT, "2000 ₽", Author.BOT, dedupe_key="b1-0", message_id="W1", batch_id="b1")
    transcript = store.transcript(CLIENT)
    assert [(entry.author, entry.text) for entry in transcript] == [
        (Author.CLIENT, "Сколько стоит маникюр?"),
        (Author.BOT, "2000 ₽"),
    ]


def test_the_chat_list_shows_the_last_message_name_and_whether_the_client_waits(store: ConversationStore) -> None:
    store.record_inbound(CLIENT, "Здравствуйте", "M1", name="Аня", at_ms=1_000)
    store.record_inbound(OTHER, "Добрый день", "M2", at_ms=2_000)
    store.record_outbound(OTHER, "Здравствуйте!", Author.BOT, dedupe_key="b2-0", at_ms=3_000)

    chats = store.chats()
    assert [chat.phone for chat in chats] == [OTHER, CLIENT]
    by_phone = {chat.phone: chat for chat in chats}
    assert by_phone[CLIENT].name == "Аня"
    assert by_phone[CLIENT].unanswered is True
    assert by_phone[OTHER].unanswered is False
    assert by_phone[OTHER].last_message == "Здравствуйте!"


def test_messages_arriving_during_a_pause_wait_until_a_person_answers(store: ConversationStore) -> None:
    store.pause(CLIENT, in_minutes(60), "operator")
    store.record_inbound(CLIENT, "Можно перенести запись?", "M1")
    assert [entry.text for entry in store.held_messages(CLIENT)] == ["Можно перенести запись?"]
    assert store.chats()[0].waiting == 1

    store.record_outbound(CLIENT, "Да, на какое время?", Author.PERSON, dedupe_key="page-1")
    assert store.held_messages(CLIENT) == []
    assert store.chats()[0].waiting == 0


def test_a_message_a_person_already_answered_is_not_held_again_by_a_late_worker(store: ConversationStore) -> None:
    store.pause(CLIENT, in_minutes(60), "operator")
    store.record_inbound(CLIENT, "Можно перенести запись?", "M1")
    store.record_outbound(CLIENT, "Да, на какое время?", Author.PERSON, dedupe_key="page-1")
    store.hold(CLIENT, ["M1"])
    assert store.held_messages(CLIENT) == []


def test_a_bot_reply_does_not_count_as_a_person_answering(store: ConversationStore) -> None:
    store.pause(CLIENT, in_minutes(60), "operator")
    store.record_inbound(CLIENT, "Можно перенести запись?", "M1")
    store.record_outbound(CLIENT, "Напоминание о записи", Author.BOT, dedupe_key="reminder-1")
    assert len(store.held_messages(CLIENT)) == 1


def test_a_pause_ends_by_itself_or_on_release(store: ConversationStore) -> None:
    until = store.pause(CLIENT, in_minutes(30), "operator")
    assert store.paused_until(CLIENT) == until
    assert store.paused_until(CLIENT, at_ms=until + 1) is None
    store.release(CLIENT)
    assert store.paused_until(CLIENT) is None


def test_the_salons_phone_extends_a_pause_but_never_shortens_an_operators(store: ConversationStore) -> None:
    long = store.pause(CLIENT, in_minutes(120), "operator")
    assert store.pause(CLIENT, in_minutes(60), "salon phone", extend_only=True) == long
    longer = in_minutes(180)
    assert store.pause(CLIENT, longer, "salon phone", extend_only=True) == longer


def test_a_turn_answers_the_held_messages_it_read_and_shows_its_commands(store: ConversationStore) -> None:
    store.pause(CLIENT, in_minutes(60), "operator")
    store.record_inbound(CLIENT, "Сколько стоит маникюр?", "M1")
    store.release(CLIENT)
    store.record_inbound(CLIENT, "Ау?", "M2")
    store.record_turn(CLIENT, "b2", "embedded", [{"name": "search_services", "outcome": "ok"}], ["M1", "M2"])
    store.record_outbound(CLIENT, "Маникюр — 2000 ₽", Author.BOT, dedupe_key="b2-0", batch_id="b2")

    transcript = store.transcript(CLIENT)
    assert [entry.batch_id for entry in transcript] == ["b2", "b2", "b2"]
    assert not any(entry.held for entry in transcript)
    reply = transcript[-1]
    assert reply.turn is not None
    assert reply.turn.commands == [{"name": "search_services", "outcome": "ok"}]


def test_retention_deletes_old_messages_and_turns(store: ConversationStore) -> None:
    now = int(time.time() * 1000)
    store.record_inbound(CLIENT, "старое", "M1", at_ms=now - 100 * 86_400_000)
    store.record_inbound(CLIENT, "новое", "M2", at_ms=now)
    assert store.purge_older_than(now - 90 * 86_400_000) == 1
    assert [entry.text for entry in store.transcript(CLIENT)] == ["новое"]


def test_forgetting_a_client_deletes_everything_about_them_and_nothing_else(store: ConversationStore) -> None:
    store.record_inbound(CLIENT, "Меня зовут Аня", "M1", name="Аня")
    store.record_turn(CLIENT, "b1", "embedded", [], ["M1"])
    store.record_inbound(OTHER, "Добрый день", "M2")
    assert store.forget(CLIENT) == 1
    assert store.transcript(CLIENT) == []
    assert store.summary(CLIENT) is None
    assert [chat.phone for chat in store.chats()] == [OTHER]


def test_two_processes_share_one_file(tmp_path: Path) -> None:
    gateway = ConversationStore(tmp_path / "c.sqlite")
    worker = ConversationStore(tmp_path / "c.sqlite")
    try:
        gateway.record_inbound(CLIENT, "Здравствуйте", "M1")
        gateway.pause(CLIENT, in_minutes(5), "salon phone")
        assert worker.paused_until(CLIENT) is not None
        assert [entry.text for entry in worker.transcript(CLIENT)] == ["Здравствуйте"]
    finally:
        gateway.close()
        worker.close()


def test_reactions_both_ways_are_in_the_transcript_once(store: ConversationStore) -> None:
    store.record_inbound(CLIENT, "Спасибо!", "M1")
    assert store.record_reaction(CLIENT, "❤️", "W1", Author.CLIENT, 1_000) is True
    assert store.record_reaction(CLIENT, "❤️", "W1", Author.CLIENT, 1_000) is False
    for at in (2_000, 3_000):  # a retried reaction: same key, a new timestamp
        store.record_reaction(CLIENT, "👍", "M1", Author.BOT, at, idempotency_key="b1-reaction")
    reactions = [(e.direction, e.author, e.text) for e in store.transcript(CLIENT) if e.kind == "reaction"]
    assert reactions == [("in", Author.CLIENT, "❤️"), ("out", Author.BOT, "👍")]


def _wal_bytes(store: ConversationStore) -> int:
    wal = store.path.with_name(store.path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_recording_what_is_already_stored_writes_nothing(store: ConversationStore) -> None:
    # The worker records each batch's messages, which the gateway has already written: no page, no fsync.
    store.record_inbound(CLIENT, "Здравствуйте", "M1", name="Аня", at_ms=1_000)
    store.record_outbound(CLIENT, "Добрый день!", Author.BOT, dedupe_key="b1-0", at_ms=2_000)
    store.record_reaction(CLIENT, "❤️", "M1", Author.BOT, at_ms=3_000, idempotency_key="b1-reaction")
    written = _wal_bytes(store)

    assert store.record_inbound(CLIENT, "Здравствуйте", "M1", name="Аня", at_ms=1_000) is False
    assert store.record_outbound(CLIENT, "Добрый день!", Author.BOT, dedupe_key="b1-0", at_ms=2_000) is False
    assert store.record_reaction(CLIENT, "❤️", "M1", Author.BOT, at_ms=3_000, idempotency_key="b1-reaction") is False
    assert _wal_bytes(store) == written
    assert len(store.transcript(CLIENT)) == 3


def test_a_chat_keeps_its_latest_time_and_its_name_when_a_message_has_none(store: ConversationStore) -> None:
    store.record_inbound(CLIENT, "Здравствуйте", "M1", name="Аня", at_ms=5_000)
    store.record_inbound(CLIENT, "Ещё вопрос", "M2", at_ms=3_000)  # late, and without a push name
    store.record_inbound(OTHER, "Добрый день", "M3", at_ms=4_000)
    chats = store.chats()
    assert [chat.phone for chat in chats] == [CLIENT, OTHER]
    assert chats[0].name == "Аня"
    store.record_inbound(CLIENT, "Это Анна", "M4", name="Анна", at_ms=6_000)
    assert store.chats()[0].name == "Анна"


def test_held_messages_are_read_through_their_own_index(store: ConversationStore) -> None:
    # A turn asks twice for what waited; a long transcript must not be read through to find none.
    with closing(sqlite3.connect(store.path)) as db:
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM messages WHERE chat = ? AND held = 1 ORDER BY id", (CLIENT,)
        ).fetchall()
    assert "messages_held" in " ".join(str(step[-1]) for step in plan)
