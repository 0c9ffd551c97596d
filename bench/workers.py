"""3. Worker throughput with an LLM that takes 1 s a call, for N = 1, 2, 4, 8 worker processes, and RQ's ceiling.

The worker runs as shipped but for AI_PROVIDER=openai against a local OpenAI-protocol server
(``tests/support/fakes/openai_server.py``) whose every answer is one line of text after 1 s, and
BATCH_IDLE_SECONDS=0 and WORKER_PROCESSES=N (the worker forks N processes).
The gateway and the api stay up; 8·N chats write one message each in one webhook, and
turns/s is the chats answered divided by the time from the webhook to the last first reply part (the
simulator's timestamps). Beside it, RQ's no-op ceiling: the same N processes run jobs that do nothing
(``bench.noop.noop``), enqueued at once on the same queue. Target: at least 0.8·N turns/s.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis
from rq import Queue

from bench.common import COMPANY, Figure, PssSampler, Section
from bench.latency import _wait_replies
from bench.stack import BenchStack, worker_processes_default
from shared.queueing import inbound_queue
from shared.wire import WEBHOOK_PATH
from tests.support.fakes.openai_server import Reply, ScriptedOpenAI
from tests.support.waiting import wait_for

LLM_SECONDS = 1.0
LLM_REPLY = "Конечно! На какое время вам удобно записаться?"
TEXT = "Здравствуйте, хочу записаться на стрижку"
TARGET_PER_PROCESS = 0.8


def _chats(prefix: str, count: int) -> list[str]:
    return [f"797{prefix}{index:06d}" for index in range(count)]


def turns(stack: BenchStack, phones: list[str]) -> dict[str, Any]:
    messages = [{"from": phone, "message": TEXT, "messageId": f"W{uuid.uuid4().hex[:20]}"} for phone in phones]
    started = time.time()
    response = httpx.post(
        f"{stack.api_url}{WEBHOOK_PATH}", json={"companyId": COMPANY, "messages": messages}, timeout=60
    )
    response.raise_for_status()
    replies = _wait_replies(stack.gateway_url, phones, cap_seconds=300)
    if not replies:
        return {"turns": 0, "unanswered": len(phones), "seconds": None, "turns_per_second": None}
    seconds = max(replies.values()) - started
    return {
        "turns": len(replies),
        "unanswered": len(phones) - len(replies),
        "seconds": round(seconds, 2),
        "turns_per_second": round(len(replies) / seconds, 2),
    }


def noop_ceiling(redis_url: str, jobs: int) -> dict[str, Any]:
    client = redis.Redis.from_url(redis_url)
    try:
        queue = inbound_queue(client, COMPANY)
        registry = queue.finished_job_registry
        before = registry.count
        prepared = [Queue.prepare_data("bench.noop.noop", result_ttl=600, timeout=60) for _ in range(jobs)]
        started = time.perf_counter()
        queue.enqueue_many(prepared)
        wait_for(lambda: registry.count - before >= jobs, 300, f"{jobs} no-op jobs", interval=0.02)
        seconds = time.perf_counter() - started
    finally:
        client.close()
    return {"jobs": jobs, "seconds": round(seconds, 2), "jobs_per_second": round(jobs / seconds, 1)}


def measure(root: Path, redis_url: str, quick: bool, pss: dict[str, dict[str, Any]]) -> Section:
    section = Section("workers", "3. Worker throughput (fake LLM, 1 s a call) and RQ's no-op ceiling")
    counts = [1, 2] if quick else [1, 2, 4, 8]
    per_process = 4 if quick else 8
    noop_jobs = 100 if quick else 300
    llm = ScriptedOpenAI(api_key="bench-key", model="bench-model")
    llm.start()
    llm.set_default(Reply.delayed(LLM_SECONDS, Reply.text(LLM_REPLY)))
    overrides = {
        "BATCH_IDLE_SECONDS": "0",
        "AI_PROVIDER": "openai",
        "AI_BASE_URL": llm.base_url,
        "AI_MODEL": "bench-model",
        "AI_API_KEY": "bench-key",
    }
    stack = BenchStack(root / "workers", redis_url, overrides)
    results: list[dict[str, Any]] = []
    try:
        stack.start("wa-gateway", "api")
        for index, count in enumerate(counts):
            processes = stack.start_workers(count)
            turns(stack, _chats(f"{index}9", processes))  # warm-up: each process's first turn
            llm.reset()
            llm.set_default(Reply.delayed(LLM_SECONDS, Reply.text(LLM_REPLY)))
            with PssSampler(lambda: {"worker": stack.groups().get("worker", [])}) as sampler:
                measured = turns(stack, _chats(f"{index}0", per_process * processes))
            calls = len(llm.requests)
            ceiling = noop_ceiling(redis_url, noop_jobs)
            results.append(
                {
                    "processes": processes,
                    **measured,
                    "llm_calls": calls,
                    "noop": ceiling,
                    "pss_peak_kb": sampler.peak.get("worker", {}).get("kb", 0),
                }
            )
            pss[f"worker ×{processes} under 1 s LLM turns"] = sampler.peak.get("worker", {}) | {
                "worker_processes": processes
            }
            stack.stop_workers()
    finally:
        stack.stop()
        llm.stop()
    section.figures = [
        Figure(
            f"worker turns/s, N={result['processes']}",
            result["turns_per_second"],
            "turns/s",
            target=TARGET_PER_PROCESS * result["processes"],
            op=">=",
            target_text=f"≥ {TARGET_PER_PROCESS * result['processes']:g} (0.8·N)",
            baseline=result["noop"]["jobs_per_second"],
            baseline_text="RQ no-op jobs/s, same N",
            note=f"{result['turns']} turns, {result['unanswered']} unanswered, {result['llm_calls']} LLM calls",
        )
        for result in results
    ]
    shipped = worker_processes_default() or 1
    rows = [
        f"| {r['processes']} | {r['turns']} | {r['seconds']} | {r['turns_per_second']} |"
        f" {TARGET_PER_PROCESS * r['processes']:g} | {r['llm_calls']} | {r['noop']['jobs_per_second']} |"
        f" {r['pss_peak_kb'] / 1024:.1f} |"
        for r in results
    ]
    section.details = {"results": results, "shipped_worker_processes": shipped, "llm_seconds": LLM_SECONDS}
    section.text = [
        f"Shipped settings but BATCH_IDLE_SECONDS=0 and AI_PROVIDER=openai against a local fake that answers every"
        f" call with one line after {LLM_SECONDS:g} s; WORKER_PROCESSES=N (the worker forks N processes;"
        f" the shipped default is {shipped}). {per_process}·N chats write"
        f" one message each in one webhook; turns/s = chats answered / (last first reply − webhook). RQ's no-op"
        f" ceiling: {noop_jobs} jobs of a function that does nothing, on the same queue and the same N processes.",
        "| N | turns | seconds | turns/s | target | LLM calls | no-op jobs/s | worker PSS at peak, MB (all N) |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows),
    ]
    return section
