"""7. The embedded provider's turn time, and YClients calls per booking dialogue.

Both play the dialogue corpus (``tests/dialogues``) in this process through the worker's real turn
(``answer_batch``: memory, understanding, the booking backend, the decision, the transcript; the way out recorded
instead of sent) against this bench's own Redis, as ``tests/support/inprocess.py`` does for the tests.

- Turn time: every turn of the whole corpus on the local backend, timed around ``answer_batch`` after the
  worker's warm-up. Target: p95 ≤ 30 ms.
- YClients calls: the booking dialogues (no booking at the start, one at the end) against the YClients
  stand-in (``tests/support/fakes/yclients.py``) through the real YClients backend, one backend for the whole
  corpus as a worker keeps one, so its cache (in Redis, YCLIENTS_CACHE_SECONDS) is warm after the first
  dialogue. Requests are counted at the stand-in. Target: ≤ 6 per booking dialogue with the cache warm.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import redis

from bench.common import Figure, Section, percentiles, rounded
from services.worker.pipeline import answer_batch
from services.worker.receptionist.understanding.warmup import warm_up
from shared.booking.catalog import DEMO_CATALOG
from tests.support.dialogues import CORPUS_NOW, Dialogue, TurnResult, load_corpus, phone_for, play
from tests.support.fakes.yclients import YClientsStandIn
from tests.support.inprocess import LocalRunner, YClientsRunner

TURN_P95_TARGET_MS = 30.0
YCLIENTS_CALLS_TARGET = 6.0


class TimedLocalRunner(LocalRunner):
    """The corpus runner on the local backend, timing each turn's ``answer_batch`` alone."""

    def __init__(self, client: redis.Redis, redis_url: str, directory: Path) -> None:
        super().__init__(client, redis_url, directory)
        self.turn_ms: list[float] = []

    def say(self, phone: str, messages: list[str], push_name: str | None) -> TurnResult:
        harness = self.harness
        assert harness is not None
        already = len(harness.sender.sent)
        batch = harness.batch(phone, list(messages), push_name)
        started = time.perf_counter()
        answer_batch(batch, harness.deps, last_attempt=True)
        self.turn_ms.append((time.perf_counter() - started) * 1000)
        new = [item for item in harness.sender.sent[already:] if item.phone == phone]
        return TurnResult(
            parts=[item.text for item in new if item.kind == "text"],
            reactions=[item.text for item in new if item.kind == "reaction"],
        )


def booking_dialogues(dialogues: list[Dialogue]) -> list[Dialogue]:
    return [dialogue for dialogue in dialogues if dialogue.expect.bookings and not dialogue.given.bookings]


def _endpoint(path: str) -> str:
    return path.split("/", 1)[0]


def measure(root: Path, redis_url: str, quick: bool, pss: dict[str, dict[str, Any]]) -> Section:
    section = Section("turns", "7. Embedded turn time and YClients calls per booking dialogue")
    warm_up()
    dialogues = load_corpus()
    client = redis.Redis.from_url(redis_url)
    try:
        runner = TimedLocalRunner(client, redis_url, Path(tempfile.mkdtemp(prefix="salons-", dir=root)))
        passed = 0
        for index, dialogue in enumerate(dialogues):
            passed += play(runner, dialogue, phone_for(index)).passed
        if runner.backend is not None:
            runner.backend.close()
        turn_stats = rounded(percentiles(runner.turn_ms), 2)
        client.flushall()
        bookings = booking_dialogues(dialogues)
        if quick:
            bookings = bookings[:12]
        calls: list[dict[str, Any]] = []
        # YClients' own limit (5 a second) would only make the run longer: the calls are counted, not timed.
        with YClientsStandIn(DEMO_CATALOG, now=CORPUS_NOW, rate_per_second=1000, rate_per_minute=60000) as standin:
            yclients = YClientsRunner(client, redis_url, standin)
            try:
                for index, dialogue in enumerate(bookings):
                    verdict = play(yclients, dialogue, phone_for(1000 + index))
                    requests = standin.requests
                    calls.append(
                        {
                            "dialogue": dialogue.id,
                            "turns": verdict.turns,
                            "bookings": len(dialogue.expect.bookings),
                            "passed": verdict.passed,
                            "requests": len(requests),
                            "by_endpoint": dict(Counter(_endpoint(request.path) for request in requests)),
                        }
                    )
            finally:
                yclients.close()
    finally:
        client.close()
    warm = calls[1:] or calls
    warm_counts = [entry["requests"] for entry in warm]
    mean = sum(warm_counts) / len(warm_counts) if warm_counts else None
    worst = max(warm_counts) if warm_counts else None
    worst_entry = next((entry for entry in warm if entry["requests"] == worst), None)
    worst_dialogue = worst_entry["dialogue"] if worst_entry else ""
    worst_detail = (
        f"expects {worst_entry['bookings']} booking(s) after {worst_entry['turns']} turns; by endpoint: "
        + ", ".join(f"{name} {count}" for name, count in sorted(worst_entry["by_endpoint"].items()))
        if worst_entry
        else ""
    )
    endpoints: Counter[str] = Counter()
    for entry in warm:
        endpoints.update(entry["by_endpoint"])
    section.figures = [
        Figure(
            "embedded turn time p95 (local backend)",
            turn_stats.get("p95"),
            "ms",
            TURN_P95_TARGET_MS,
            "<=",
            "≤ 30 ms",
            note=f"p50 {turn_stats.get('p50')}, p99 {turn_stats.get('p99')}, max {turn_stats.get('max')} ms;"
            f" {len(runner.turn_ms)} turns",
        ),
        Figure(
            "YClients calls per booking dialogue, mean (cache warm)",
            round(mean, 2) if mean is not None else None,
            "calls",
            YCLIENTS_CALLS_TARGET,
            "<=",
            "≤ 6",
            note=f"{len(warm)} dialogues; the first, cache cold: {calls[0]['requests'] if calls else '–'}",
        ),
        Figure(
            "YClients calls per booking dialogue, worst (cache warm)",
            worst,
            "calls",
            note=f"no target: the issue's ≤ 6 is per booking dialogue, the mean above; the worst, {worst_dialogue},"
            f" {worst_detail}",
        ),
    ]
    section.details = {
        "turn_ms": turn_stats,
        "corpus": {"dialogues": len(dialogues), "passed": passed},
        "yclients": calls,
        "yclients_warm_by_endpoint": dict(endpoints),
    }
    rows = [
        f"| {entry['dialogue']} | {entry['turns']} | {entry['bookings']} | {entry['requests']} | "
        + ", ".join(f"{name} {count}" for name, count in sorted(entry["by_endpoint"].items()))
        + f" | {'yes' if entry['passed'] else 'no'} |"
        for entry in calls
    ]
    section.text = [
        f"Turn time: {len(runner.turn_ms)} turns of {len(dialogues)} dialogues ({passed} judged correct), embedded"
        f" provider, local backend, in this process: p50 {turn_stats.get('p50')} ms, p95 {turn_stats.get('p95')}"
        f" ms, p99 {turn_stats.get('p99')} ms, max {turn_stats.get('max')} ms.",
        "YClients requests per booking dialogue, counted at the stand-in (the first dialogue fills the cache):",
        "| dialogue | turns | bookings | requests | by endpoint | correct |\n|---|---|---|---|---|---|\n"
        + "\n".join(rows),
        "With the cache warm, all booking dialogues together: "
        + ", ".join(f"{name} {count}" for name, count in endpoints.most_common()),
    ]
    return section
