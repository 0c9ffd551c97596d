"""``python -m bench.worker_scaling [--embedded] [N ...]``: turns a second and memory of N worker processes.

A quick measurement (the formal one is ``bench.workers``): its own redis-server, the three services as the
test suite starts them (``tests.support.services.Stack``) with AI_PROVIDER=openai against the local
OpenAI-protocol server (``tests/support/fakes/openai_server.py``), whose every answer is one line of text
after LLM_SECONDS, BATCH_IDLE_SECONDS=0 and WORKER_PROCESSES=N. CHATS_PER_PROCESS·N chats each write one
message in one webhook; turns/s is the chats answered over the time from the webhook to the last first
reply (the simulator's timestamps). While the turns run, the PSS (``/proc/<pid>/smaps_rollup``) of the
worker's main process and of each worker process is sampled; the idle figures are taken before the load.
Prints one line per N; the target is at least 0.8·N turns/s and at most 60 MB PSS per worker process.
``--embedded``: AI_PROVIDER=embedded instead (no LLM, no openai SDK): the memory of the shipped default.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from shared.wire import WEBHOOK_PATH
from tests.support.fakes.openai_server import Reply, ScriptedOpenAI
from tests.support.redis_server import RedisServer
from tests.support.services import Stack, descendants
from tests.support.waiting import wait_for

LLM_SECONDS = 1.0
CHATS_PER_PROCESS = 12
EMBEDDED_CHATS_PER_PROCESS = 100
"""The embedded provider answers in milliseconds: more turns, so the load lasts long enough to sample."""
TEXT = "Здравствуйте, хочу записаться на стрижку"
WEBHOOK_MESSAGES = 100


def pss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class PssSampler:
    """The highest PSS of the worker's main process and of its worker processes while the load runs."""

    def __init__(self, main_pid: int) -> None:
        self.main_pid = main_pid
        self.main_max = 0.0
        self.worker_max = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> tuple[float, list[float]]:
        main = pss_mb(self.main_pid) or 0.0
        workers = [value for pid in descendants(self.main_pid) if (value := pss_mb(pid)) is not None]
        return main, workers

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            main, workers = self.sample()
            self.main_max = max(self.main_max, main)
            self.worker_max = max([self.worker_max, *workers])

    def __enter__(self) -> PssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def first_replies(stack: Stack, phones: set[str]) -> dict[str, float]:
    first: dict[str, float] = {}
    for item in stack.outbox():
        phone = str(item.get("to", "")).split("@")[0]
        if phone in phones and item.get("kind") == "text":
            first[phone] = min(first.get(phone, float("inf")), float(item["timestamp"]))
    return first


def measure(processes: int, root: Path, redis_url: str, llm: ScriptedOpenAI | None) -> str:
    provider = (
        {"AI_PROVIDER": "openai", "AI_BASE_URL": llm.base_url, "AI_API_KEY": llm.api_key, "AI_MODEL": llm.model}
        if llm is not None
        else {"AI_PROVIDER": "embedded"}
    )
    stack = Stack(
        root / f"{provider['AI_PROVIDER']}-{processes}",
        redis_url,
        {**provider, "BATCH_IDLE_SECONDS": "0", "WORKER_PROCESSES": str(processes)},
    )
    try:
        stack.start()
        worker = stack.services["worker"].process
        assert worker is not None
        wait_for(lambda: len(descendants(worker.pid)) >= processes, 60, f"{processes} worker processes")
        time.sleep(2)  # let the processes finish starting before the idle sample
        idle_main, idle_workers = PssSampler(worker.pid).sample()
        per_process = CHATS_PER_PROCESS if llm is not None else EMBEDDED_CHATS_PER_PROCESS
        phones = [f"7955{processes:02d}{index:05d}" for index in range(per_process * processes)]
        messages = [{"from": phone, "message": TEXT, "messageId": f"S{uuid.uuid4().hex[:20]}"} for phone in phones]
        with PssSampler(worker.pid) as sampler:
            started = time.time()
            for first in range(0, len(messages), WEBHOOK_MESSAGES):  # the api takes at most 100 in one webhook
                response = httpx.post(
                    f"{stack.api_url}{WEBHOOK_PATH}",
                    json={"companyId": "962302", "messages": messages[first : first + WEBHOOK_MESSAGES]},
                    timeout=60,
                )
                response.raise_for_status()
            wanted = set(phones)

            def all_answered() -> dict[str, float] | None:
                found = first_replies(stack, wanted)
                return found if len(found) == len(wanted) else None

            replies = wait_for(
                all_answered, 60 + 4 * len(phones) * LLM_SECONDS / processes, "every chat's first reply", interval=0.5
            )
        seconds = max(replies.values()) - started
        rate = len(replies) / seconds
        return (
            f"{provider['AI_PROVIDER']} N={processes}: {len(replies)} turns in {seconds:.1f} s = {rate:.2f} turns/s"
            f" (target {0.8 * processes:.1f}: {'met' if rate >= 0.8 * processes else 'NOT met'});"
            f" PSS MB idle: main {idle_main:.0f}, workers {max(idle_workers, default=0):.0f};"
            f" under load (max): main {sampler.main_max:.0f}, workers {sampler.worker_max:.0f}"
        )
    finally:
        stack.stop()


def main() -> None:
    embedded = "--embedded" in sys.argv[1:]
    counts = [int(arg) for arg in sys.argv[1:] if arg.isdigit()] or [1, 2, 4, 8]
    root = Path(tempfile.mkdtemp(prefix="worker-scaling-"))
    server = RedisServer(root / "redis")
    server.start()
    try:
        with ScriptedOpenAI() as llm:
            llm.set_default(Reply.delayed(LLM_SECONDS, Reply.text("Конечно! На какое время вам удобно?")))
            for processes in counts:
                print(measure(processes, root, server.url, None if embedded else llm), flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
