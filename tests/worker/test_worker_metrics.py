"""The worker's multiprocess metrics: nothing is opened before the wipe, and folding exited processes loses nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.worker.metrics import WorkerCollector, compact, wipe
from tests.support.services import REPO_ROOT


def run_python(code: str, directory: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PROMETHEUS_MULTIPROC_DIR": str(directory), "APP_ENV": "test"}
    subprocess.run([sys.executable, "-c", code], cwd=directory, env=env, check=True, timeout=120, capture_output=True)


def test_importing_the_worker_opens_no_metric_file(tmp_path: Path) -> None:
    """The worker wipes the directory in main(), after its imports: a file opened by an import would be
    wiped from under the process (its counts lost) or, with a recycled pid, carry the last run's counts."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    run_python("import services.worker.__main__, services.api.app, services.wa_gateway.app", directory)
    assert list(directory.iterdir()) == []


def test_folding_the_files_of_exited_processes_keeps_every_sum(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    wipe(directory)
    # Three worker processes, each counting and then exiting (killed, or replaced by the pool).
    for provider, turns in (("embedded", 2), ("openai", 1), ("embedded", 3)):
        run_python(
            "from shared.metrics import AI_TURNS, AI_TURN_SECONDS\n"
            f"AI_TURNS.labels('{provider}', 'answered').inc({turns})\n"
            f"AI_TURN_SECONDS.labels('{provider}', 'answered').observe(0.2)\n",
            directory,
        )
    assert len(list(directory.glob("counter_*.db"))) == 3

    assert compact(directory) == 6  # three counter files, three histogram files
    assert sorted(file.name for file in directory.iterdir()) == ["counter_archive.db", "histogram_archive.db"]

    registry = CollectorRegistry()
    registry.register(WorkerCollector(directory))
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for sample in family.samples
    }
    embedded = (("outcome", "answered"), ("provider", "embedded"))
    assert samples[("ai_admin_ai_turns_total", embedded)] == 5
    assert samples[("ai_admin_ai_turns_total", (("outcome", "answered"), ("provider", "openai")))] == 1
    assert samples[("ai_admin_ai_turn_seconds_count", embedded)] == 2
    assert samples[("ai_admin_ai_turn_seconds_bucket", tuple(sorted((*embedded, ("le", "0.25")))))] == 2

    # A later process adds to the archive rather than replacing it.
    run_python("from shared.metrics import AI_TURNS\nAI_TURNS.labels('openai', 'answered').inc()\n", directory)
    assert compact(directory) == 1
    again = [
        sample
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for sample in family.samples
        if sample.name == "ai_admin_ai_turns_total" and sample.labels["provider"] == "openai"
    ]
    assert [sample.value for sample in again] == [2]


def test_the_files_of_a_live_process_are_not_folded(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    wipe(directory)
    live = directory / f"counter_{os.getpid()}.db"
    live.write_bytes(b"")
    parent = directory / f"counter_{os.getppid()}.db"
    parent.write_bytes(b"")
    assert compact(directory) == 0
    assert live.exists() and parent.exists()
