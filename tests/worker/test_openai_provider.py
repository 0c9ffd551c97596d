"""The ``openai`` provider against a scripted OpenAI-compatible server (tools protocol), and its fallback.

The server is a real HTTP server speaking chat completions; the provider uses the real ``openai``
SDK. Whatever the model says, the salon's book is judged: bookings only from the executor, and a
model that fails or claims what didn't happen is replaced by the embedded provider for the turn.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from structlog.testing import capture_logs

from services.worker.receptionist.providers.openai_compatible import OpenAICompatibleProvider
from services.worker.settings import WorkerSettings
from shared.booking.local import LocalBackend
from shared.config import load_settings
from shared.errors import ConfigurationError
from tests.support.dialogues import SALON_ZONE
from tests.support.fakes.openai_server import Reply, ScriptedOpenAI, ToolCall
from tests.support.inprocess import TurnHarness, local_backend, local_visits, turn_settings

CLIENT = "79005550202"
FRIDAY_15 = datetime(2026, 11, 27, 15, 0, tzinfo=SALON_ZONE)
COMMANDS = {
    "SEARCH_SLOTS",
    "CREATE_BOOKING",
    "CANCEL_BOOKING",
    "RESCHEDULE_BOOKING",
    "SHOW_PRICES",
    "EXPLAIN_SERVICE",
    "CHECK_STAFF_SCHEDULE",
    "SHOW_BOOKINGS",
    "SAVE_CLIENT_NAME",
}


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedOpenAI]:
    server = ScriptedOpenAI(api_key="sk-test-key-for-the-suite", model="salon-model")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def salon(tmp_path: Path) -> Iterator[LocalBackend]:
    backend = local_backend(tmp_path / "salon.sqlite")
    yield backend
    backend.close()


def llm_settings(redis_url: str, server: ScriptedOpenAI, **overrides: Any) -> WorkerSettings:
    values: dict[str, Any] = {
        "AI_PROVIDER": "openai",
        "AI_BASE_URL": server.base_url,
        "AI_API_KEY": server.api_key,
        "AI_MODEL": server.model,
        "AI_TIMEOUT_SECONDS": 5,
        "AI_MAX_RETRIES": 0,
    }
    values.update(overrides)
    return turn_settings(redis_url, **values)


@pytest.fixture
def harness(
    llm: ScriptedOpenAI, redis_client: redis.Redis, redis_url: str, salon: LocalBackend
) -> Iterator[TurnHarness]:
    llm.reset()
    settings = llm_settings(redis_url, llm)
    yield TurnHarness(redis_client, settings, salon, provider=OpenAICompatibleProvider(settings))


def my_bookings(salon: LocalBackend) -> list[tuple[int, datetime]]:
    return [(visit.service, visit.at) for visit in local_visits(salon) if visit.phone == CLIENT]


def tool_result(request: dict[str, Any], name: str) -> dict[str, Any]:
    """The result the provider fed back for the tool call named ``name``."""
    calls = {
        call["id"]: call["function"]["name"]
        for message in request["messages"]
        if message["role"] == "assistant"
        for call in message.get("tool_calls") or []
    }
    for message in request["messages"]:
        if message["role"] == "tool" and calls.get(message["tool_call_id"]) == name:
            result: dict[str, Any] = json.loads(message["content"])
            return result
    raise AssertionError(f"no result for {name} in the request")


def test_the_model_books_through_tools_and_its_final_text_is_the_reply(
    harness: TurnHarness, llm: ScriptedOpenAI, salon: LocalBackend
) -> None:
    llm.script(
        Reply.tool_calls(ToolCall("SEARCH_SLOTS", {"service_name": "Маникюр", "date": "2026-11-27"})),
        Reply.tool_calls(
            ToolCall(
                "CREATE_BOOKING",
                {
                    "service_name": "Маникюр",
                    "date": "2026-11-27",
                    "time": "15:00",
                    "staff_name": "Мария Иванова",
                    "client_name": "Ольга",
                },
            )
        ),
        Reply.text("Добрый день, Ольга! Вы записаны на маникюр в пятницу в 15:00 к Марии."),
    )
    result = harness.say(CLIENT, "Запишите к Марии на маникюр в пятницу в 15:00, я Ольга")

    assert my_bookings(salon) == [(1005, FRIDAY_15)]
    assert result.parts == ["Добрый день, Ольга! Вы записаны на маникюр в пятницу в 15:00 к Марии."]
    first, second, third = llm.requests
    assert {tool["function"]["name"] for tool in first["tools"]} == COMMANDS
    system = first["messages"][0]["content"]
    assert "2026-11-23" in system and "понедельник" in system, "today and its weekday in the salon's zone"
    assert "Маникюр — 1800 ₽" in system and "Мария Иванова" in system, "the catalog summary"
    assert tool_result(second, "SEARCH_SLOTS")["outcome"] == "slots"
    assert tool_result(third, "CREATE_BOOKING")["outcome"] == "booked"


def test_a_server_error_falls_back_to_the_embedded_provider_and_the_client_is_still_answered(
    harness: TurnHarness, llm: ScriptedOpenAI, salon: LocalBackend
) -> None:
    llm.script(Reply.error(500, "upstream exploded"))
    with capture_logs() as logs:
        result = harness.say(CLIENT, "Запишите меня к Марии на маникюр в пятницу в 15:00", push_name="Ольга")
    assert my_bookings(salon) == [(1005, FRIDAY_15)]
    assert any("Вы записаны" in part for part in result.parts)
    warning = next(entry for entry in logs if entry["event"].startswith("AI provider failed"))
    assert warning["log_level"] == "warning"
    assert "500" in warning["reason"]


def test_a_timeout_falls_back_to_embedded(
    llm: ScriptedOpenAI, redis_client: redis.Redis, redis_url: str, salon: LocalBackend
) -> None:
    llm.reset()
    settings = llm_settings(redis_url, llm, AI_TIMEOUT_SECONDS=1)
    harness = TurnHarness(redis_client, settings, salon, provider=OpenAICompatibleProvider(settings))
    llm.script(Reply.delayed(5, Reply.text("слишком поздно")))
    with capture_logs() as logs:
        result = harness.say(CLIENT, "Сколько стоит маникюр?")
    assert any("1800" in part for part in result.parts)
    assert not any("слишком поздно" in part for part in result.parts)
    assert any("timed out" in str(entry.get("reason")) for entry in logs)


def test_malformed_tool_arguments_fall_back_to_embedded(
    harness: TurnHarness, llm: ScriptedOpenAI, salon: LocalBackend
) -> None:
    llm.script(Reply.tool_calls(ToolCall("CREATE_BOOKING", '{"service_name": "Маникюр", "date": ')))
    result = harness.say(CLIENT, "Сколько стоит педикюр?")
    assert any("2800" in part for part in result.parts)
    assert my_bookings(salon) == []


def test_a_model_that_claims_a_booking_without_making_it_is_not_believed(
    harness: TurnHarness, llm: ScriptedOpenAI, salon: LocalBackend
) -> None:
    llm.script(Reply.text("Готово! Вы записаны на маникюр в пятницу в 15:00."))
    result = harness.say(CLIENT, "Хочу на маникюр в пятницу")
    text = "\n".join(result.parts)
    assert "Вы записаны" not in text
    assert my_bookings(salon) == []
    assert "15:00" not in text or "Есть время" in text


def test_when_the_model_fails_after_booking_the_booking_is_reported_not_repeated(
    harness: TurnHarness, llm: ScriptedOpenAI, salon: LocalBackend
) -> None:
    llm.script(
        Reply.tool_calls(
            ToolCall(
                "CREATE_BOOKING",
                {"service_name": "Маникюр", "date": "2026-11-27", "time": "15:00", "client_name": "Ольга"},
            )
        ),
        Reply.error(503, "overloaded"),
    )
    result = harness.say(CLIENT, "Маникюр в пятницу в 15:00, меня зовут Ольга")
    assert my_bookings(salon) == [(1005, FRIDAY_15)]
    assert sum("Вы записаны" in part for part in result.parts) == 1


def test_markdown_from_the_model_never_reaches_whatsapp(harness: TurnHarness, llm: ScriptedOpenAI) -> None:
    llm.script(Reply.text("*Маникюр* стоит _1800 ₽_ ~точно~"))
    result = harness.say(CLIENT, "Сколько стоит маникюр?")
    assert result.parts == ["Маникюр стоит 1800 ₽ точно"]


def test_the_conversation_so_far_goes_to_the_model(harness: TurnHarness, llm: ScriptedOpenAI) -> None:
    llm.script(Reply.text("Маникюр стоит 1800 ₽."), Reply.text("Записать вас?"))
    harness.say(CLIENT, "Сколько стоит маникюр?")
    harness.say(CLIENT, "А можно на пятницу?")
    contents = [message["content"] for message in llm.requests[-1]["messages"] if message["role"] != "system"]
    assert contents == ["Сколько стоит маникюр?", "Маникюр стоит 1800 ₽.", "А можно на пятницу?"]


@pytest.mark.parametrize(
    ("provider", "key_variable", "base_url", "model"),
    [
        ("deepseek", "DEEPSEEK_API_KEY", "https://api.deepseek.com", "deepseek-chat"),
        ("gemini", "GEMINI_API_KEY", "https://generativelanguage.googleapis.com/v1beta/openai/", "gemini-2.5-flash"),
    ],
)
def test_presets_fill_in_the_base_url_and_model_and_take_their_own_key(
    provider: str, key_variable: str, base_url: str, model: str
) -> None:
    settings = load_settings(WorkerSettings, _env_file=None, AI_PROVIDER=provider, **{key_variable: "a-real-key-123"})
    assert (settings.llm_base_url, settings.llm_model, settings.llm_api_key) == (base_url, model, "a-real-key-123")


def test_production_refuses_an_llm_provider_without_a_real_key() -> None:
    secrets = {"API_KEY": "k" * 32, "WEBHOOK_SECRET": "w" * 32}
    with pytest.raises(ConfigurationError, match="DEEPSEEK_API_KEY"):
        load_settings(WorkerSettings, _env_file=None, APP_ENV="production", AI_PROVIDER="deepseek", **secrets)
    with pytest.raises(ConfigurationError, match="AI_API_KEY"):
        load_settings(
            WorkerSettings,
            _env_file=None,
            APP_ENV="production",
            AI_PROVIDER="openai",
            AI_BASE_URL="http://127.0.0.1:1/v1",
            AI_MODEL="m",
            AI_API_KEY="changeme",
            **secrets,
        )


def test_a_hung_llm_leaves_the_embedded_provider_time_to_answer_within_the_turn(
    llm: ScriptedOpenAI, redis_client: redis.Redis, redis_url: str, salon: LocalBackend
) -> None:
    llm.reset()
    # Three attempts of 10 s would outlast a 20 s turn; the LLM only gets what the fallback doesn't need.
    settings = llm_settings(redis_url, llm, TURN_TIMEOUT_SECONDS=20, AI_TIMEOUT_SECONDS=10, AI_MAX_RETRIES=2)
    harness = TurnHarness(redis_client, settings, salon, provider=OpenAICompatibleProvider(settings))
    llm.set_default(Reply.delayed(60, Reply.text("слишком поздно")))
    with capture_logs() as logs:
        result = harness.say(CLIENT, "Сколько стоит маникюр?")
    assert any("1800" in part for part in result.parts)
    reasons = [str(entry.get("reason")) for entry in logs if entry["event"].startswith("AI provider failed")]
    assert reasons and ("timed out" in reasons[0] or "no time left" in reasons[0])
    assert len(llm.requests) == 1, "no second attempt once the turn's LLM share is spent"


def test_a_model_offering_a_time_it_never_looked_up_is_not_believed(
    harness: TurnHarness, llm: ScriptedOpenAI, salon: LocalBackend
) -> None:
    llm.script(Reply.text("В пятницу свободно 16:20, записать?"))
    result = harness.say(CLIENT, "Хочу на маникюр в пятницу")
    assert "16:20" not in "\n".join(result.parts)
