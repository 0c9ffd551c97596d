"""Each turn that falls back from the LLM is counted in Redis, where the api's alert monitor reads it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from services.worker.context import build_deps
from services.worker.receptionist.turn import ProviderFailed, Turn
from shared.alerts import ai_fallback_recorder, count_ai_fallbacks
from shared.booking.local import LocalBackend
from tests.support.inprocess import COMPANY, TurnHarness, local_backend, turn_settings

CLIENT = "79001234567"


class DownProvider:
    name = "openai"

    def respond(self, turn: Turn) -> str:
        raise ProviderFailed("the AI provider timed out")


@pytest.fixture
def salon(tmp_path: Path) -> Iterator[LocalBackend]:
    backend = local_backend(tmp_path / "salon.sqlite")
    yield backend
    backend.close()


def fallbacks(client: redis.Redis) -> int:
    return count_ai_fallbacks(client, COMPANY, since=time.time() - 3600)


def test_a_turn_answered_by_the_fallback_is_counted(
    redis_client: redis.Redis, redis_url: str, salon: LocalBackend
) -> None:
    harness = TurnHarness(redis_client, turn_settings(redis_url), salon, provider=DownProvider())
    harness.deps.receptionist.on_fallback = ai_fallback_recorder(redis_client, COMPANY)
    result = harness.say(CLIENT, "Сколько стоит маникюр?")
    assert any("1800" in part for part in result.parts), "the client is still answered"
    harness.say(CLIENT, "А педикюр?")
    assert fallbacks(redis_client) == 2


def test_a_turn_the_configured_provider_answered_is_not_counted(
    redis_client: redis.Redis, redis_url: str, salon: LocalBackend
) -> None:
    harness = TurnHarness(redis_client, turn_settings(redis_url), salon)
    harness.deps.receptionist.on_fallback = ai_fallback_recorder(redis_client, COMPANY)
    harness.say(CLIENT, "Сколько стоит маникюр?")
    assert fallbacks(redis_client) == 0


def test_the_worker_counts_fallbacks_for_its_company(redis_client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    deps = build_deps(turn_settings(redis_url, DATA_DIR=str(tmp_path)))
    try:
        assert deps.receptionist.on_fallback is not None
        deps.receptionist.on_fallback("the AI provider answered 500")
        assert fallbacks(redis_client) == 1
    finally:
        deps.receptionist.backend.close()
        deps.redis.close()
