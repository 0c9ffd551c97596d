"""POST /webhook/whatsapp/batched stores messages for the worker, or says clearly why not."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis

from shared import redis_keys
from shared.signing import signed_headers
from shared.wire import InboundMessage
from tests.support.services import Stack

WEBHOOK = "/webhook/whatsapp/batched"
CLIENT = "79001234567"


@pytest.fixture
def api(make_stack: Callable[..., Stack]) -> Iterator[Stack]:
    stack = make_stack()
    stack.start("api")
    yield stack


def post(stack: Stack, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        stack.api_url + WEBHOOK,
        content=content,
        headers={"content-type": "application/json", **(headers or {})},
        timeout=10,
    )


def buffered(client: redis.Redis, chat: str = CLIENT) -> list[InboundMessage]:
    """What the worker will read: the chat's buffer, through the wire model."""
    return [
        InboundMessage.model_validate_json(item) for item in client.lrange(redis_keys.buffer("962302", chat), 0, -1)
    ]


def scheduled_flushes(client: redis.Redis) -> int:
    """Chats due for a flush: the worker's dispatcher turns each into an RQ job when its time comes."""
    return int(client.zcard(redis_keys.due_chats("962302")))


def test_the_batched_form_is_stored_for_the_worker_with_a_flush_scheduled(
    api: Stack, redis_client: redis.Redis
) -> None:
    response = post(
        api,
        {
            "companyId": "962302",
            "messages": [
                {"from": CLIENT, "message": "Здравствуйте", "messageId": "m1", "timestamp": 1, "pushName": "Аня"},
                {"from": "+7 (900) 123-45-67", "message": "на завтра", "messageId": "m2", "timestamp": 2},
            ],
        },
    )
    assert response.status_code == 200
    assert response.json()["addedCount"] == 2
    assert [m.text for m in buffered(redis_client)] == ["Здравствуйте", "на завтра"]
    assert scheduled_flushes(redis_client) == 1


def test_the_originals_single_form_is_accepted(api: Stack, redis_client: redis.Redis) -> None:
    response = post(api, {"from": "89001234567", "message": "Привет", "messageId": "m1", "timestamp": 1})
    assert response.status_code == 200
    assert buffered(redis_client)[0].chat == CLIENT


def test_a_group_chat_keeps_its_group_id(api: Stack, redis_client: redis.Redis) -> None:
    group = "120363012345678901@g.us"
    response = post(api, {"messages": [{"from": group, "message": "Всем привет", "messageId": "g1"}]})
    assert response.status_code == 200
    assert buffered(redis_client, group)[0].chat == group


def test_a_message_delivered_twice_is_stored_once(api: Stack, redis_client: redis.Redis) -> None:
    body = {"messages": [{"from": CLIENT, "message": "Привет", "messageId": "m1"}]}
    assert post(api, body).json()["addedCount"] == 1
    again = post(api, body).json()
    assert again["addedCount"] == 0
    assert again["duplicateCount"] == 1
    assert len(buffered(redis_client)) == 1


def test_one_grep_for_a_message_id_finds_the_line_that_queued_it_alone_or_among_several(api: Stack) -> None:
    post(api, {"companyId": "962302", "messages": [{"from": CLIENT, "message": "Привет", "messageId": "one1"}]})
    several = [{"from": f"7900123450{index}", "message": "Привет", "messageId": f"many{index}"} for index in range(3)]
    post(api, {"companyId": "962302", "messages": several})
    post(api, {"companyId": "962302", "messages": several[:2]})

    def lines(message_id: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in api.log_lines("api") if message_id in line]

    [alone] = lines("one1")
    assert (alone["event"], alone["chat"], alone["message_id"], alone["company_id"]) == (
        "Message queued for the worker",
        CLIENT,
        "one1",
        "962302",
    )
    queued, duplicate = lines("many1")
    assert queued["event"] == "Message queued for the worker" and queued["count"] == 3
    assert queued["message_ids"] == ["many0", "many1", "many2"]
    assert queued["chats"] == ["79001234500", "79001234501", "79001234502"]
    assert duplicate["event"] == "Duplicate message ignored" and duplicate["message_ids"] == ["many0", "many1"]
    assert queued["company_id"] == duplicate["company_id"] == "962302"


BAD_BODIES: list[tuple[str, bytes | dict[str, Any], int, str]] = [
    ("malformed JSON", b'{"messages": [', 400, "not valid JSON"),
    ("not an object", b"[1, 2]", 422, "JSON object"),
    ("empty body", b"", 400, "not valid JSON"),
    ("no messages", {"messages": []}, 422, "messages"),
    ("missing from", {"messages": [{"message": "hi", "messageId": "m1"}]}, 422, "from"),
    ("wrong type", {"messages": [{"from": CLIENT, "message": 5, "messageId": "m1"}]}, 422, "message"),
    (
        "unknown field",
        {"messages": [{"from": CLIENT, "message": "hi", "messageId": "m1", "evil": 1}]},
        422,
        "unknown field",
    ),
    ("control character", {"messages": [{"from": CLIENT, "message": "hi\x00", "messageId": "m1"}]}, 422, "control"),
    ("invalid phone", {"messages": [{"from": "+", "message": "hi", "messageId": "m1"}]}, 422, "messages.0.from"),
    ("status broadcast", {"messages": [{"from": "status@broadcast", "message": "hi", "messageId": "m1"}]}, 422, "from"),
    ("bad group id", {"messages": [{"from": "12-ab@g.us", "message": "hi", "messageId": "m1"}]}, 422, "group id"),
    ("bad message id", {"messages": [{"from": CLIENT, "message": "hi", "messageId": "a b"}]}, 422, "messageId"),
    ("bad companyId", {"companyId": "[object Object]", "messages": []}, 422, "companyId"),
    (
        "another company",
        {"companyId": "1", "messages": [{"from": CLIENT, "message": "hi", "messageId": "m"}]},
        404,
        "1",
    ),
]


@pytest.mark.parametrize(("case", "body", "status", "says"), BAD_BODIES, ids=[case[0] for case in BAD_BODIES])
def test_bad_input_gets_a_clear_4xx_and_nothing_is_enqueued(
    api: Stack, redis_client: redis.Redis, case: str, body: bytes | dict[str, Any], status: int, says: str
) -> None:
    response = post(api, body)
    assert response.status_code == status, response.text
    assert response.json()["success"] is False
    assert says in response.json()["error"]
    assert redis_client.keys("ai-admin:rapid-fire:*") == []
    assert scheduled_flushes(redis_client) == 0


def test_a_body_over_one_megabyte_is_a_413(api: Stack, redis_client: redis.Redis) -> None:
    huge = {"messages": [{"from": CLIENT, "message": "x" * 60000, "messageId": f"m{i}"} for i in range(20)]}
    response = post(api, huge)
    assert response.status_code == 413
    assert redis_client.keys("ai-admin:rapid-fire:*") == []


class TestWithWebhookSecret:
    SECRET = "s3cret-for-tests-only"

    @pytest.fixture
    def signed_api(self, make_stack: Callable[..., Stack]) -> Iterator[Stack]:
        stack = make_stack(WEBHOOK_SECRET=self.SECRET)
        stack.start("api")
        yield stack

    BODY = json.dumps({"messages": [{"from": CLIENT, "message": "hi", "messageId": "m1"}]}).encode()

    def test_a_correctly_signed_webhook_is_accepted(self, signed_api: Stack) -> None:
        response = post(signed_api, self.BODY, signed_headers(self.SECRET, "POST", WEBHOOK, self.BODY))
        assert response.status_code == 200

    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"x-signature": "00" * 32, "x-timestamp": "1"},
            signed_headers("another-secret", "POST", WEBHOOK, BODY),
            signed_headers(SECRET, "POST", WEBHOOK, BODY + b" "),
        ],
        ids=["unsigned", "stale", "wrong secret", "body changed"],
    )
    def test_a_missing_or_wrong_signature_is_a_401_and_nothing_is_enqueued(
        self, signed_api: Stack, redis_client: redis.Redis, headers: dict[str, str]
    ) -> None:
        response = post(signed_api, self.BODY, headers)
        assert response.status_code == 401
        assert "signature" in response.json()["error"]
        assert redis_client.keys("ai-admin:rapid-fire:*") == []
