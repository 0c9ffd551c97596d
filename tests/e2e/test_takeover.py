"""A person takes a chat over: the bot stays quiet, nothing the client wrote is lost or answered twice.

Real gateway, api and worker; the salon's phone and the client are the simulator's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import redis

from shared import redis_keys
from tests.support.services import Stack
from tests.support.waiting import wait_for

CLIENT = "79001234567"


def conversation(stack: Stack, phone: str = CLIENT) -> dict[str, Any]:
    response = httpx.get(f"{stack.api_url}/api/conversations/{phone}", timeout=10)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def client_texts(stack: Stack) -> list[str]:
    return [m["text"] for m in conversation(stack)["messages"] if m["author"] == "client"]


def bot_replies(stack: Stack) -> list[dict[str, Any]]:
    return [m for m in stack.outbox(CLIENT) if m["kind"] == "text"]


def held(stack: Stack, text: str) -> bool:
    return any(m["text"] == text and m["held"] for m in conversation(stack)["messages"])


def test_the_salon_writing_from_its_phone_pauses_the_bot_and_nothing_is_lost_after(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    stack.start()
    stack.client_writes(CLIENT, "Здравствуйте! Хочу записаться на маникюр", push_name="Аня")
    wait_for(lambda: bot_replies(stack), 60, "the bot's first reply")
    replies_before = len(bot_replies(stack))

    stack.salon_writes(CLIENT, "Аня, здравствуйте! Это Мария, сейчас сама подберу вам время")
    summary = wait_for(
        lambda: conversation(stack)["summary"] if conversation(stack)["summary"]["aiPaused"] else None,
        30,
        "the AI paused",
    )
    assert summary["pausedBy"] == "salon phone"

    stack.client_writes(CLIENT, "Спасибо! А сколько стоит маникюр с покрытием?")
    wait_for(lambda: held(stack, "Спасибо! А сколько стоит маникюр с покрытием?"), 60, "the message held for a person")
    wait_for(stack.at_rest, 60, "the stack at rest")
    assert len(bot_replies(stack)) == replies_before, "the bot talked over a person"

    # The salon's own message is in the transcript as a person's, though it never went through the gateway.
    people = [m for m in conversation(stack)["messages"] if m["author"] == "person"]
    assert [m["text"] for m in people] == ["Аня, здравствуйте! Это Мария, сейчас сама подберу вам время"]

    response = httpx.post(f"{stack.api_url}/api/conversations/{CLIENT}/release", timeout=10)
    assert response.status_code == 200
    stack.client_writes(CLIENT, "Ау, вы тут?")
    wait_for(lambda: len(bot_replies(stack)) > replies_before, 60, "the bot answering after the pause")
    wait_for(stack.at_rest, 60, "the stack at rest")

    messages = conversation(stack)["messages"]
    assert client_texts(stack) == [
        "Здравствуйте! Хочу записаться на маникюр",
        "Спасибо! А сколько стоит маникюр с покрытием?",
        "Ау, вы тут?",
    ]
    waited, latest = (
        m for m in messages if m["text"] in ("Спасибо! А сколько стоит маникюр с покрытием?", "Ау, вы тут?")
    )
    # The turn after the pause read the message that waited, so it is answered, once, by that turn.
    assert waited["held"] is False
    assert waited["batchId"] is not None and waited["batchId"] == latest["batchId"]
    bot_after = [m for m in messages if m["author"] == "bot" and m["batchId"] == latest["batchId"]]
    assert bot_after and bot_after[0]["turn"]["batchId"] == latest["batchId"]
    # Every text that reached WhatsApp is one reply in the transcript: nothing sent twice, nothing unrecorded.
    assert sorted(m["id"] for m in bot_replies(stack)) == sorted(
        m["messageId"] for m in messages if m["author"] == "bot" and m["kind"] == "text"
    )
    assert any("маникюр" in m["text"].lower() for m in bot_after)


def test_an_operator_takes_over_answers_by_hand_and_releases(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    stack.start()
    stack.client_writes(CLIENT, "Здравствуйте", push_name="Аня")
    wait_for(lambda: bot_replies(stack), 60, "the bot's first reply")
    first = len(bot_replies(stack))

    response = httpx.post(f"{stack.api_url}/api/conversations/{CLIENT}/takeover", json={"minutes": 30}, timeout=10)
    assert response.status_code == 200
    assert response.json()["pausedUntil"] > 0

    stack.client_writes(CLIENT, "Можно поговорить с человеком?")
    wait_for(lambda: held(stack, "Можно поговорить с человеком?"), 60, "the message waiting for a person")
    wait_for(stack.at_rest, 60, "the worker having seen it (and left it to a person)")
    listed = httpx.get(f"{stack.api_url}/api/conversations", timeout=10).json()["conversations"]
    assert listed[0]["phone"] == CLIENT
    assert listed[0]["aiPaused"] is True
    assert listed[0]["unanswered"] is True
    assert listed[0]["waiting"] == 1

    sent = httpx.post(
        f"{stack.api_url}/api/whatsapp/sessions/962302/send",
        json={"phone": CLIENT, "message": "Да, это Мария. Чем помочь?", "author": "person"},
        timeout=10,
    )
    assert sent.status_code == 200
    assert bot_replies(stack)[-1]["text"] == "Да, это Мария. Чем помочь?"
    summary = conversation(stack)["summary"]
    assert summary["waiting"] == 0
    assert summary["unanswered"] is False

    httpx.post(f"{stack.api_url}/api/conversations/{CLIENT}/release", timeout=10).raise_for_status()
    stack.client_writes(CLIENT, "Сколько стоит маникюр?")
    wait_for(lambda: len(bot_replies(stack)) > first + 1, 60, "the bot answering again")
    wait_for(stack.at_rest, 60, "the stack at rest")

    messages = conversation(stack)["messages"]
    person_answered = next(m for m in messages if m["text"] == "Можно поговорить с человеком?")
    # The person answered it, so the bot's next turn did not read it again.
    assert person_answered["batchId"] is None
    outbound = [m for m in messages if m["direction"] == "out"]
    by_hand = next(i for i, m in enumerate(outbound) if m["author"] == "person")
    after = outbound[by_hand + 1 :]
    assert after and all(m["author"] == "bot" for m in after)
    assert {m["batchId"] for m in after} == {messages[-len(after) - 1]["batchId"]}


def test_the_conversations_api_refuses_bad_input_with_a_clear_4xx(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(API_KEY="k" * 32)
    stack.start("wa-gateway", "api")
    key = {"x-api-key": "k" * 32}

    assert httpx.get(f"{stack.api_url}/api/conversations", timeout=10).status_code == 401
    assert httpx.get(f"{stack.api_url}/api/conversations", headers=key, timeout=10).json()["conversations"] == []

    unknown = httpx.get(f"{stack.api_url}/api/conversations/{CLIENT}", headers=key, timeout=10)
    assert unknown.status_code == 404
    assert CLIENT in unknown.json()["error"]

    bad_phone = httpx.post(f"{stack.api_url}/api/conversations/12/takeover", headers=key, timeout=10)
    assert bad_phone.status_code in (400, 422)
    assert "phone" in bad_phone.json()["error"]

    bad_minutes = httpx.post(
        f"{stack.api_url}/api/conversations/{CLIENT}/takeover", json={"minutes": 0}, headers=key, timeout=10
    )
    assert bad_minutes.status_code in (400, 422)
    assert "minutes" in bad_minutes.json()["error"]
    assert bad_minutes.json()["success"] is False


def test_forgetting_a_client_deletes_their_transcript_and_the_receptionists_memory(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    stack.start()
    stack.client_writes(CLIENT, "Здравствуйте, меня зовут Аня", push_name="Аня")
    wait_for(lambda: bot_replies(stack), 60, "the bot's reply")
    wait_for(stack.at_rest, 60, "the stack at rest")
    memory = redis.Redis.from_url(stack.redis_url)
    try:
        assert memory.exists(*redis_keys.client_memory("962302", CLIENT)) > 0

        response = httpx.delete(f"{stack.api_url}/api/conversations/{CLIENT}", timeout=10)
        assert response.status_code == 200
        assert response.json()["messagesDeleted"] >= 2

        assert httpx.get(f"{stack.api_url}/api/conversations/{CLIENT}", timeout=10).status_code == 404
        assert memory.exists(*redis_keys.client_memory("962302", CLIENT)) == 0
    finally:
        memory.close()
