"""The dialogue corpus, turn by turn through the real pipeline, on both booking backends.

A dialogue passes when the backend ends in the expected state and every reply kept the rules
(``tests/support/dialogues.py``). The same corpus runs through the whole stack in ``make eval``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from shared.booking.catalog import DEMO_CATALOG
from tests.support.dialogues import Dialogue, Runner, load_corpus, phone_for, play
from tests.support.fakes.yclients import YClientsStandIn
from tests.support.inprocess import LocalRunner, YClientsRunner

DIALOGUES = load_corpus()
CATALOG = DEMO_CATALOG


@pytest.fixture(scope="module")
def module_redis(redis_server: object) -> Iterator[redis.Redis]:
    url = redis_server.url  # type: ignore[attr-defined]
    client = redis.Redis.from_url(url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="module")
def local_runner(module_redis: redis.Redis, redis_server: object, tmp_path_factory: pytest.TempPathFactory) -> Runner:
    return LocalRunner(module_redis, redis_server.url, tmp_path_factory.mktemp("salons"))  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def yclients_runner(module_redis: redis.Redis, redis_server: object) -> Iterator[Runner]:
    standin = YClientsStandIn(CATALOG, rate_per_second=100, rate_per_minute=10_000)
    standin.start()
    runner = YClientsRunner(module_redis, redis_server.url, standin)  # type: ignore[attr-defined]
    yield runner
    runner.close()
    standin.stop()


def test_the_corpus_has_at_least_sixty_dialogues_in_russian_and_english() -> None:
    assert len(DIALOGUES) >= 60
    assert {dialogue.lang for dialogue in DIALOGUES} == {"ru", "en"}


@pytest.mark.parametrize("dialogue", DIALOGUES, ids=[d.id for d in DIALOGUES])
def test_dialogue_on_the_embedded_salon(local_runner: Runner, dialogue: Dialogue) -> None:
    verdict = play(local_runner, dialogue, phone_for(DIALOGUES.index(dialogue)))
    assert verdict.passed, "\n".join([*verdict.failures, "", *verdict.transcript])


@pytest.mark.parametrize("dialogue", DIALOGUES, ids=[d.id for d in DIALOGUES])
def test_dialogue_on_yclients(yclients_runner: Runner, dialogue: Dialogue) -> None:
    verdict = play(yclients_runner, dialogue, phone_for(DIALOGUES.index(dialogue)))
    assert verdict.passed, "\n".join([*verdict.failures, "", *verdict.transcript])
