"""The chat's memory in Redis: an embedded turn reads no history lines but keeps writing them for an LLM."""

from __future__ import annotations

from pathlib import Path

import redis

from services.worker.receptionist.memory import MemoryStore
from tests.support.inprocess import COMPANY, TurnHarness, local_backend, turn_settings

CLIENT = "79001234567"


def test_an_embedded_turn_reads_no_history_and_still_writes_the_lines_an_llm_would_read(
    redis_client: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    salon = local_backend(tmp_path / "salon.sqlite")
    harness = TurnHarness(redis_client, turn_settings(redis_url), salon)
    try:
        assert harness.deps.receptionist.reads_history is False
        harness.say(CLIENT, "Сколько стоит маникюр?")
        harness.say(CLIENT, "А педикюр?", push_name="Аня")

        store = MemoryStore(redis_client)
        full = store.load(COMPANY, CLIENT)
        lean = store.load(COMPANY, CLIENT, history=False)
        assert [line["role"] for line in full.history] == ["client", "assistant", "client", "assistant"]
        assert full.history[0]["text"] == "Сколько стоит маникюр?"
        assert lean.history == []
        assert (lean.dialog, lean.client, lean.preferences) == (full.dialog, full.client, full.preferences)
    finally:
        harness.close()
        salon.close()
