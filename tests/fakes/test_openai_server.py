"""The scripted OpenAI server, driven by the real ``openai`` SDK as the project's provider drives it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

from tests.support.fakes.openai_server import Reply, ScriptedOpenAI, ToolCall
from tests.support.waiting import wait_for

TOOLS: list[ChatCompletionToolParam] = [
    {
        "type": "function",
        "function": {
            "name": "find_slots",
            "description": "Free appointment slots for a service on a date.",
            "parameters": {
                "type": "object",
                "properties": {"service": {"type": "string"}, "date": {"type": "string"}},
                "required": ["service", "date"],
            },
        },
    }
]

GREETING: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "Ты администратор салона."},
    {"role": "user", "content": "Можно на стрижку завтра?"},
]


@pytest.fixture(scope="module")
def shared_server() -> Iterator[ScriptedOpenAI]:
    server = ScriptedOpenAI()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake(shared_server: ScriptedOpenAI) -> ScriptedOpenAI:
    # One server for the module, as a project suite would share it; reset() gives each test a clean script and log.
    shared_server.reset()
    return shared_server


@pytest.fixture
def client(fake: ScriptedOpenAI) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key="test-key", base_url=fake.base_url, max_retries=0, timeout=10.0) as sdk:
        yield sdk


def test_tool_call_round_trip(fake: ScriptedOpenAI, client: openai.OpenAI) -> None:
    def answer_from_tool_result(request: dict[str, Any]) -> Reply:
        result = json.loads(request["messages"][-1]["content"])
        return Reply.text(f"Свободно в {result['slots'][0]}.")

    fake.script(
        Reply.tool_calls(ToolCall("find_slots", {"service": "стрижка", "date": "2025-05-02"})),
        Reply.from_function(answer_from_tool_result),
    )

    first = client.chat.completions.create(model="deepseek-chat", messages=GREETING, tools=TOOLS)

    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    [call] = choice.message.tool_calls
    assert call.type == "function"
    assert call.function.name == "find_slots"
    assert json.loads(call.function.arguments) == {"service": "стрижка", "date": "2025-05-02"}

    follow_up: list[ChatCompletionMessageParam] = [
        *GREETING,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"slots": ["10:00", "12:30"]})},
    ]
    second = client.chat.completions.create(model="deepseek-chat", messages=follow_up, tools=TOOLS)

    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "Свободно в 10:00."
    assert second.choices[0].message.tool_calls is None
    assert [request["messages"][-1]["role"] for request in fake.requests] == ["user", "tool"]
    assert fake.requests[1]["messages"][-1]["tool_call_id"] == call.id
    assert fake.pending == 0
    assert fake.errors == []


def test_final_text_has_the_openai_shape(fake: ScriptedOpenAI, client: openai.OpenAI) -> None:
    fake.script(Reply.text("Здравствуйте!"))

    completion = client.chat.completions.create(model="gpt-4o-mini", messages=GREETING)

    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "gpt-4o-mini"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "Здравствуйте!"
    assert completion.choices[0].message.tool_calls is None
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_several_tool_calls_with_text_verbatim_arguments_and_fixed_ids(
    fake: ScriptedOpenAI, client: openai.OpenAI
) -> None:
    fake.script(
        Reply.tool_calls(
            ToolCall("find_slots", '{"service": "стрижка", '),
            ToolCall("find_slots", {"service": "маникюр", "date": "2025-05-02"}, id="call_fixed"),
            content="Сейчас посмотрю.",
        )
    )

    completion = client.chat.completions.create(model="fake-model", messages=GREETING, tools=TOOLS)

    message = completion.choices[0].message
    assert message.content == "Сейчас посмотрю."
    assert message.tool_calls is not None
    broken, fixed = message.tool_calls
    assert broken.type == fixed.type == "function"
    assert broken.function.arguments == '{"service": "стрижка", '
    assert fixed.id == "call_fixed"
    assert broken.id != fixed.id


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
        (429, openai.RateLimitError),
        (400, openai.BadRequestError),
    ],
)
def test_error_status_raises_the_sdk_error_class(
    fake: ScriptedOpenAI, client: openai.OpenAI, status: int, error_class: type[openai.APIStatusError]
) -> None:
    fake.script(Reply.error(status, "upstream overloaded", "server_error", code="overloaded"))

    with pytest.raises(error_class) as caught:
        client.chat.completions.create(model="fake-model", messages=GREETING)

    assert caught.value.status_code == status
    assert caught.value.body == {
        "message": "upstream overloaded",
        "type": "server_error",
        "param": None,
        "code": "overloaded",
    }
    assert caught.value.code == "overloaded"


def test_error_carries_scripted_headers(fake: ScriptedOpenAI, client: openai.OpenAI) -> None:
    fake.script(Reply.error(429, "slow down", "rate_limit_error", headers={"retry-after": "7"}))

    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="fake-model", messages=GREETING)

    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.type == "rate_limit_error"


def test_wrong_api_key_is_401_and_consumes_nothing(fake: ScriptedOpenAI, client: openai.OpenAI) -> None:
    fake.script(Reply.text("for the right key"))

    with (
        openai.OpenAI(api_key="wrong-key", base_url=fake.base_url, max_retries=0, timeout=10.0) as stranger,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        stranger.chat.completions.create(model="fake-model", messages=GREETING)

    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    assert fake.requests == []
    answer = client.chat.completions.create(model="fake-model", messages=GREETING)
    assert answer.choices[0].message.content == "for the right key"


def test_delay_longer_than_client_timeout_raises_api_timeout(fake: ScriptedOpenAI) -> None:
    fake.script(Reply.delayed(60, Reply.text("too late")), Reply.text("on time"))

    with openai.OpenAI(api_key="test-key", base_url=fake.base_url, max_retries=0, timeout=0.5) as impatient:
        with pytest.raises(openai.APITimeoutError):
            impatient.chat.completions.create(model="fake-model", messages=GREETING)
        # The server is not wedged by the abandoned request: the next scripted reply comes back.
        answer = impatient.chat.completions.create(model="fake-model", messages=GREETING, timeout=10.0)

    assert answer.choices[0].message.content == "on time"
    assert len(fake.requests) == 2


def test_delay_shorter_than_client_timeout_answers(fake: ScriptedOpenAI, client: openai.OpenAI) -> None:
    fake.script(Reply.delayed(0.05, Reply.tool_calls(ToolCall("find_slots", {}))))

    completion = client.chat.completions.create(model="fake-model", messages=GREETING, tools=TOOLS)

    assert completion.choices[0].finish_reason == "tool_calls"


def test_delayed_reply_does_not_block_other_requests() -> None:
    outcome: list[BaseException | str | None] = []
    with ScriptedOpenAI() as server:
        server.script(Reply.delayed(600, Reply.text("slow")), Reply.text("fast"))

        def slow_call() -> None:
            with openai.OpenAI(api_key="test-key", base_url=server.base_url, max_retries=0, timeout=60.0) as sdk:
                try:
                    outcome.append(sdk.chat.completions.create(model="fake-model", messages=GREETING).id)
                except openai.APIError as error:
                    outcome.append(error)

        slow = threading.Thread(target=slow_call)
        slow.start()
        wait_for(lambda: server.requests, 10, "the slow request to reach the server")
        with openai.OpenAI(api_key="test-key", base_url=server.base_url, max_retries=0, timeout=10.0) as sdk:
            fast = sdk.chat.completions.create(model="fake-model", messages=GREETING)
        assert fast.choices[0].message.content == "fast"
    # Leaving the block stopped the server, which cuts the scripted delay short instead of waiting it out.
    slow.join(30)
    assert not slow.is_alive()
    [error] = outcome
    assert isinstance(error, openai.InternalServerError)
    assert error.status_code == 503


def test_request_log_records_messages_tools_and_unknown_fields(fake: ScriptedOpenAI, client: openai.OpenAI) -> None:
    fake.script(Reply.text("ok"))

    client.chat.completions.create(
        model="deepseek-chat",
        messages=GREETING,
        tools=TOOLS,
        tool_choice="auto",
        temperature=0.2,
        max_tokens=300,
        extra_body={"thinking": {"type": "disabled"}},
    )

    [request] = fake.requests
    assert request["model"] == "deepseek-chat"
    assert request["messages"] == GREETING
    assert request["tools"] == TOOLS
    assert request["tool_choice"] == "auto"
    assert request["temperature"] == 0.2
    assert request["max_tokens"] == 300
    assert request["thinking"] == {"type": "disabled"}


def test_empty_script_is_500_until_a_default_is_set(fake: ScriptedOpenAI, client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError, match="script exhausted"):
        client.chat.completions.create(model="fake-model", messages=GREETING)

    fake.set_default(Reply.text("default"))
    fake.script(Reply.text("scripted"))
    answers = [client.chat.completions.create(model="fake-model", messages=GREETING) for _ in range(3)]
    assert [answer.choices[0].message.content for answer in answers] == ["scripted", "default", "default"]

    fake.set_default(None)
    with pytest.raises(openai.InternalServerError, match="script exhausted"):
        client.chat.completions.create(model="fake-model", messages=GREETING)


def test_unanswered_tool_call_is_rejected_like_a_real_server(fake: ScriptedOpenAI, client: openai.OpenAI) -> None:
    fake.script(Reply.text("never sent"))
    messages: list[ChatCompletionMessageParam] = [
        *GREETING,
        {
            "role": "assistant",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "find_slots", "arguments": "{}"}}],
        },
        {"role": "user", "content": "Ну что там?"},
    ]

    with pytest.raises(openai.BadRequestError, match="call_1"):
        client.chat.completions.create(model="fake-model", messages=messages, tools=TOOLS)

    assert len(fake.requests) == 1
    assert fake.pending == 1


def test_tool_message_without_its_call_is_rejected(fake: ScriptedOpenAI, client: openai.OpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [
        *GREETING,
        {"role": "tool", "tool_call_id": "call_unknown", "content": "{}"},
    ]

    with pytest.raises(openai.BadRequestError, match="role 'tool'"):
        client.chat.completions.create(model="fake-model", messages=messages, tools=TOOLS)


def test_parallel_tool_calls_answered_in_any_order_are_accepted(fake: ScriptedOpenAI, client: openai.OpenAI) -> None:
    fake.script(Reply.text("ok"))
    messages: list[ChatCompletionMessageParam] = [
        *GREETING,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "find_slots", "arguments": "{}"}},
                {"id": "call_b", "type": "function", "function": {"name": "find_slots", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_b", "content": "[]"},
        {"role": "tool", "tool_call_id": "call_a", "content": "[]"},
        {"role": "user", "content": "Спасибо"},
    ]

    completion = client.chat.completions.create(model="fake-model", messages=messages, tools=TOOLS)

    assert completion.choices[0].message.content == "ok"


ASSISTANT_WITH_DICT_ARGUMENTS = {
    "role": "assistant",
    "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "find_slots", "arguments": {}}}],
}


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"messages": [*GREETING, ASSISTANT_WITH_DICT_ARGUMENTS]}, "messages[2].tool_calls[0].function.arguments"),
        ({"tool_choice": "auto"}, "tool_choice"),
        ({"stream": True}, "stream"),
        ({"tools": [{"type": "function", "function": {"name": "find slots"}}]}, "tools[0].function.name"),
        ({"messages": []}, "messages"),
    ],
)
def test_malformed_requests_are_400_with_the_param(fake: ScriptedOpenAI, extra: dict[str, Any], param: str) -> None:
    fake.script(Reply.text("never sent"))
    body = {"model": "fake-model", "messages": GREETING, **extra}

    answer = httpx.post(
        f"{fake.base_url}/chat/completions", json=body, headers={"Authorization": "Bearer test-key"}, timeout=10
    )

    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert answer.json()["error"]["param"] == param
    assert fake.pending == 1


def test_body_that_is_not_json_is_400_and_missing_key_is_401(fake: ScriptedOpenAI) -> None:
    url = f"{fake.base_url}/chat/completions"

    not_json = httpx.post(url, content=b"{", headers={"Authorization": "Bearer test-key"}, timeout=10)
    no_key = httpx.post(url, json={"model": "fake-model", "messages": GREETING}, timeout=10)

    assert not_json.status_code == 400
    assert not_json.json()["error"]["type"] == "invalid_request_error"
    assert no_key.status_code == 401
    assert no_key.json()["error"]["code"] == "invalid_api_key"
    assert fake.requests == []


def test_failing_callback_is_a_500_and_is_kept(fake: ScriptedOpenAI, client: openai.OpenAI) -> None:
    def broken(request: dict[str, Any]) -> Reply:
        raise KeyError("slots")

    fake.script(Reply.from_function(broken))

    with pytest.raises(openai.InternalServerError, match="from_function"):
        client.chat.completions.create(model="fake-model", messages=GREETING)

    [error] = fake.errors
    assert isinstance(error, KeyError)


def test_callback_cannot_alter_the_log(fake: ScriptedOpenAI, client: openai.OpenAI) -> None:
    def meddling(request: dict[str, Any]) -> Reply:
        request["messages"].clear()
        return Reply.text("ok")

    fake.script(Reply.from_function(meddling))
    client.chat.completions.create(model="fake-model", messages=GREETING)

    assert fake.requests[0]["messages"] == GREETING


def test_models_lists_the_configured_model(client: openai.OpenAI) -> None:
    assert [model.id for model in client.models.list()] == ["fake-model"]


def test_stopped_server_is_a_connection_error() -> None:
    server = ScriptedOpenAI()
    server.start()
    base_url = server.base_url
    server.stop()
    server.stop()  # idempotent, as fixture teardown after a failed test may call it again

    with (
        openai.OpenAI(api_key="test-key", base_url=base_url, max_retries=0, timeout=10.0) as sdk,
        pytest.raises(openai.APIConnectionError),
    ):
        sdk.chat.completions.create(model="fake-model", messages=GREETING)


async def test_async_client(fake: ScriptedOpenAI) -> None:
    fake.script(Reply.tool_calls(ToolCall("find_slots", {"service": "стрижка", "date": "2025-05-02"})))

    async with openai.AsyncOpenAI(api_key="test-key", base_url=fake.base_url, max_retries=0, timeout=10.0) as sdk:
        completion = await sdk.chat.completions.create(model="fake-model", messages=GREETING, tools=TOOLS)

    assert completion.choices[0].message.tool_calls is not None
    [call] = completion.choices[0].message.tool_calls
    assert call.type == "function"
    assert call.function.name == "find_slots"


def test_reply_constructors_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="4xx or 5xx"):
        Reply.error(200)
    with pytest.raises(ValueError, match="at least one"):
        Reply.tool_calls()
    with pytest.raises(ValueError, match="non-negative"):
        Reply.delayed(-1, Reply.text("x"))
