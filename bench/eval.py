"""``make eval``: the dialogue corpus through the real stack, on both booking backends.

Starts its own redis-server, the three services (simulator transport, embedded provider, the
salon's clock frozen at the corpus' Monday morning) and, for YClients, the YClients stand-in.
Each dialogue's turns go in through the simulator as WhatsApp messages; the judge reads the
booking backend's own state (the salon's SQLite file, the stand-in's records). Prints task success
per category and overall and the turns per booking, and writes ``bench/reports/eval.md`` and
``eval.json``. This is a benchmark of task success, not of speed: the batch window is short and the
pause between reply parts is zero so that the corpus runs in minutes.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

from services.worker.receptionist.memory import ChatMemory, ClientProfile, MemoryStore
from shared.booking.catalog import DEMO_CATALOG
from shared.booking.local import LocalBackend, database_path
from shared.booking.models import NewBooking
from tests.support.dialogues import (
    CORPUS_NOW,
    OTHER_CLIENT,
    BookedVisit,
    BookingSpec,
    Dialogue,
    TurnResult,
    Verdict,
    load_corpus,
    phone_for,
    play,
    report,
)
from tests.support.fakes.yclients import YClientsStandIn
from tests.support.inprocess import local_backend, local_visits, standin_visits
from tests.support.redis_server import RedisServer
from tests.support.services import Stack
from tests.support.waiting import wait_for

REPORTS = Path(__file__).parent / "reports"
COMPANY = "962302"
TURN_CEILING_SECONDS = 60


class StackRunner:
    """Plays dialogues as WhatsApp clients of a running stack; judges through the backend's own state."""

    def __init__(self, stack: Stack, backend: str, standin: YClientsStandIn | None) -> None:
        self.stack = stack
        self.backend = backend
        self.standin = standin
        self.redis = redis.Redis.from_url(stack.redis_url)
        self.salon: LocalBackend | None = None
        if backend == "local":
            self.salon = local_backend(database_path(stack.root / "data", COMPANY))
        self._log_dir = stack.root / "log"
        self._log_offsets: dict[Path, int] = {}
        """Read so far in each worker log: one per worker process (worker-<n>.json.log)."""
        self._answered: set[str] = set()

    def close(self) -> None:
        self.redis.close()
        if self.salon is not None:
            self.salon.close()

    def start_dialogue(self, dialogue: Dialogue, phone: str) -> None:
        if self.salon is not None:
            with sqlite3.connect(self.salon.path) as db:  # the evaluator resets its test salon between dialogues
                db.execute("DELETE FROM bookings")
        if self.standin is not None:
            self.standin.reset()
            self.standin.set_now(CORPUS_NOW)
        for spec in dialogue.given.bookings:
            self._book(spec, phone if spec.client == "me" else OTHER_CLIENT)
        if dialogue.given.client_name:
            with self.redis.pipeline(transaction=True) as pipe:
                memory = ChatMemory(client=ClientProfile(name=dialogue.given.client_name))
                MemoryStore.save(pipe, COMPANY, phone, memory)
                pipe.execute()

    def _book(self, spec: BookingSpec, phone: str) -> None:
        assert spec.staff is not None
        name = "Клиент" if phone == OTHER_CLIENT else "Я"
        if self.salon is not None:
            booking = NewBooking(
                service_id=spec.service, staff_id=spec.staff, start=spec.at, client_phone=phone, client_name=name
            )
            self.salon.create_booking(booking)
        else:
            assert self.standin is not None
            self.standin.add_record(service_id=spec.service, staff_id=spec.staff, start=spec.at, phone=phone, name=name)

    def _read_answers(self) -> None:
        for path in self._log_dir.glob("worker*.json.log"):
            with path.open("rb") as log:
                log.seek(self._log_offsets.get(path, 0))
                chunk = log.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            self._log_offsets[path] = self._log_offsets.get(path, 0) + len(complete)
            for line in complete.decode(errors="replace").splitlines():
                if '"Batch answered"' in line or '"Batch given up' in line:
                    self._answered.add(str(json.loads(line).get("message_id")))

    def say(self, phone: str, messages: list[str], push_name: str | None) -> TurnResult:
        before = len(self.stack.outbox(phone))
        last = ""
        for text in messages:
            last = self.stack.client_writes(phone, text, push_name=push_name)

        def answered() -> bool:
            self._read_answers()
            return last in self._answered

        wait_for(answered, TURN_CEILING_SECONDS, f"the answer to {last}")
        new = self.stack.outbox(phone)[before:]
        return TurnResult(
            parts=[str(item["text"]) for item in new if item["kind"] == "text"],
            reactions=[str(item["emoji"]) for item in new if item["kind"] == "reaction"],
        )

    def occupy(self, spec: BookingSpec) -> None:
        self._book(spec, OTHER_CLIENT)

    def visits(self) -> list[BookedVisit]:
        if self.salon is not None:
            return local_visits(self.salon)
        assert self.standin is not None
        return standin_visits(self.standin)


def run_backend(backend: str, dialogues: list[Dialogue], root: Path, redis_url: str) -> tuple[list[Verdict], float]:
    env = {
        "CLOCK_FROZEN_AT": CORPUS_NOW.isoformat(),
        "BATCH_IDLE_SECONDS": "0.5",
        "REPLY_PART_GAP_SECONDS": "0",
        "BOOKING_BACKEND": backend,
    }
    standin = None
    if backend == "yclients":
        standin = YClientsStandIn(DEMO_CATALOG, now=CORPUS_NOW)
        standin.start()
        env.update(
            {
                "YCLIENTS_API_URL": standin.base_url,
                "YCLIENTS_PARTNER_TOKEN": "partner-token",
                "YCLIENTS_USER_TOKEN": "user-token",
            }
        )
    client = redis.Redis.from_url(redis_url)
    client.flushall()  # our own redis-server: the clients of one backend's run must not remember the other's
    client.close()
    stack = Stack(root / backend, redis_url, env)
    started = time.perf_counter()
    try:
        stack.start()
        runner = StackRunner(stack, backend, standin)
        verdicts = []
        for index, dialogue in enumerate(dialogues):
            verdict = play(runner, dialogue, phone_for(index))
            print(f"  {'pass' if verdict.passed else 'FAIL'}  {dialogue.id}", flush=True)
            if not verdict.passed:
                for failure in verdict.failures:
                    print(f"        {failure}", flush=True)
            verdicts.append(verdict)
        runner.close()
    finally:
        stack.stop()
        if standin is not None:
            standin.stop()
    return verdicts, time.perf_counter() - started


def render(results: dict[str, dict[str, Any]]) -> str:
    categories = sorted({name for result in results.values() for name in result["categories"]})
    lines = [
        "# Receptionist evaluation: the dialogue corpus through the real stack",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python {platform.python_version()},"
        " embedded provider, simulator transport, salon clock frozen at 2026-11-23 10:00 MSK"
        " (`python -m bench.eval`, `make eval`). A dialogue succeeds when the booking backend ends in the"
        " expected state, no other client's bookings changed, and every reply kept the rules"
        " (`tests/support/dialogues.py`).",
        "",
        "| category | " + " | ".join(results) + " |",
        "|---|" + "---|" * len(results),
    ]
    for category in categories:
        cells = []
        for result in results.values():
            counts = result["categories"].get(category, {"dialogues": 0, "passed": 0})
            cells.append(f"{counts['passed']}/{counts['dialogues']}")
        lines.append(f"| {category} | " + " | ".join(cells) + " |")
    overall = [f"**{r['passed']}/{r['dialogues']} ({r['success']:.0%})**" for r in results.values()]
    turns = [f"{r['turns_per_booking']:.2f}" if r["turns_per_booking"] else "–" for r in results.values()]
    lines.append("| **overall** | " + " | ".join(overall) + " |")
    lines.append("| turns per booking | " + " | ".join(turns) + " |")
    lines.append("| wall time | " + " | ".join(f"{r['seconds']:.0f} s" for r in results.values()) + " |")
    failures = {backend: r["failures"] for backend, r in results.items() if r["failures"]}
    if failures:
        lines += ["", "## Failures", ""]
        for backend, by_dialogue in failures.items():
            for dialogue, reasons in by_dialogue.items():
                lines.append(f"- {backend} `{dialogue}`: " + "; ".join(reasons))
    lines += [
        "",
        "Turns per booking: client turns in the dialogues that start with no booking and end with one.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=["local", "yclients", "both"], default="both")
    parser.add_argument("--only", help="run only dialogues whose id contains this text")
    arguments = parser.parse_args()
    dialogues = load_corpus()
    if arguments.only:
        dialogues = [dialogue for dialogue in dialogues if arguments.only in dialogue.id]
    backends = ["local", "yclients"] if arguments.backend == "both" else [arguments.backend]
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="ai-admin-eval-") as scratch:
        root = Path(scratch)
        server = RedisServer(root / "redis", appendonly=True)
        server.start()
        try:
            for backend in backends:
                print(f"{backend}: {len(dialogues)} dialogues", flush=True)
                verdicts, seconds = run_backend(backend, dialogues, root, server.url)
                results[backend] = {**report(verdicts), "seconds": seconds}
        finally:
            server.stop()
    text = render(results)
    print(text)
    if arguments.backend == "both" and not arguments.only:
        REPORTS.mkdir(exist_ok=True)
        (REPORTS / "eval.md").write_text(text)
        (REPORTS / "eval.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    if any(result["passed"] < result["dialogues"] for result in results.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
