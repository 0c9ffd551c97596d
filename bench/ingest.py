"""1. Webhook ingest: the api's messages/s beside a bare endpoint's, with wrk, the worker stopped.

Each request is a batched webhook of 10 messages from 10 distinct chats with fresh message ids
(``bench/ingest.lua``), 32 connections, the shipped BATCH_IDLE_SECONDS (each chat's flush waits 9 s).
The api and the bare endpoint (``bench/bare_ingest.py``) take turns against the same redis-server
(appendonly, fsync always), which is emptied before each run, so neither inherits the other's keys.
Target: the api ingests at least half as many messages a second as the bare endpoint.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import redis

from bench.common import Figure, PssSampler, Section, free_port
from bench.stack import BenchStack
from shared.wire import WEBHOOK_PATH
from tests.support.services import ServiceProcess
from tests.support.waiting import wait_for

LUA = Path(__file__).with_name("ingest.lua")
CONNECTIONS = 32
THREADS = 2
MESSAGES_PER_REQUEST = 10
TARGET_SHARE = 0.5


def wrk(url: str, seconds: float, connections: int = CONNECTIONS) -> dict[str, Any]:
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed; `make bench` installs it with apt (deploy/install-system-deps.sh)")
    run = uuid.uuid4().hex[:10]
    command = [
        binary,
        f"-t{THREADS}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
        "--",
        run,
        str(MESSAGES_PER_REQUEST),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((line for line in result.stdout.splitlines() if line.startswith("BENCH-JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    data: dict[str, Any] = json.loads(line.removeprefix("BENCH-JSON "))
    seconds_run = data["duration_us"] / 1e6
    data["seconds"] = round(seconds_run, 2)
    data["requests_per_second"] = round(data["requests"] / seconds_run, 1)
    data["messages_per_second"] = round(data["requests"] * MESSAGES_PER_REQUEST / seconds_run, 1)
    data["latency_ms"] = {key: round(value / 1000, 2) for key, value in data.pop("latency_us").items()}
    return data


def _one_tree(name: str, pid: int) -> Callable[[], dict[str, list[int]]]:
    return lambda: {name: [pid]}


def measure(root: Path, redis_url: str, quick: bool, pss: dict[str, dict[str, Any]]) -> Section:
    section = Section("ingest", "1. Webhook ingest (api vs a bare endpoint)")
    seconds = 3.0 if quick else 10.0
    rounds = 1 if quick else 3
    stack = BenchStack(root / "ingest", redis_url)
    bare_port = free_port()
    bare_env = dict(stack.env) | {"BARE_PORT": str(bare_port)}
    bare = ServiceProcess(
        "bare-ingest", bare_env, root / "ingest" / "out" / "bare.out", root, module="bench.bare_ingest"
    )
    client = redis.Redis.from_url(redis_url)
    urls = {"api": f"{stack.api_url}{WEBHOOK_PATH}", "bare": f"http://127.0.0.1:{bare_port}{WEBHOOK_PATH}"}
    runs: dict[str, list[dict[str, Any]]] = {"api": [], "bare": []}
    try:
        stack.start("api")
        bare.start()
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{bare_port}/health", timeout=2).status_code == 200, 60, "bare")
        for url in urls.values():  # warm-up: connection pools, first imports, uvloop's caches
            wrk(url, 2)
        assert stack.services["api"].process is not None and bare.process is not None
        trees = {"api": stack.services["api"].process.pid, "bare": bare.process.pid}
        for _ in range(rounds):
            for name, url in urls.items():
                client.flushall()
                with PssSampler(_one_tree(name, trees[name])) as sampler:
                    runs[name].append(wrk(url, seconds))
                pss[f"{name} under ingest load"] = sampler.peak.get(name, {})
    finally:
        client.close()
        bare.stop()
        stack.stop()
    # The median run of each: another program's burst of work on the machine spoils one run, not the figure.
    api_rate = statistics.median(run["messages_per_second"] for run in runs["api"])
    bare_rate = statistics.median(run["messages_per_second"] for run in runs["bare"])
    statuses: dict[str, int] = {}
    for run in runs["api"]:
        for status, count in run["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    not_ok = sum(count for status, count in statuses.items() if status != "200")
    errors = sum(sum(run["errors"].values()) - run["errors"]["status"] for run in runs["api"])
    section.figures = [
        Figure(
            "webhook ingest, api",
            round(api_rate, 1),
            "msg/s",
            target=TARGET_SHARE,
            op=">=",
            target_text=f"≥ {TARGET_SHARE:.0%} of the bare endpoint",
            baseline=round(bare_rate, 1),
            baseline_text="bare endpoint, msg/s",
            compared=round(api_rate / bare_rate, 3) if bare_rate else None,
            note=f"{MESSAGES_PER_REQUEST} chats per request, {CONNECTIONS} connections, worker stopped",
        ),
        Figure(
            "webhook answers other than 200 (and socket errors)",
            not_ok + errors,
            "answers",
            target=0,
            op="<=",
            target_text="0",
            note="statuses: " + ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items())),
        ),
    ]
    section.details = {
        "runs": runs,
        "seconds_per_run": seconds,
        "connections": CONNECTIONS,
        "wrk_threads": THREADS,
        "messages_per_request": MESSAGES_PER_REQUEST,
        "api_statuses": statuses,
    }
    rows = [
        f"| {name} | {index + 1} | {run['messages_per_second']} | {run['requests_per_second']} | "
        f"{run['latency_ms']['p50']} | {run['latency_ms']['p99']} | "
        + ", ".join(f"{status}: {count}" for status, count in sorted(run["statuses"].items()))
        + " |"
        for name in runs
        for index, run in enumerate(runs[name])
    ]
    section.text = [
        f"wrk, {THREADS} threads, {CONNECTIONS} connections, {seconds:.0f} s a run, {rounds} run(s) each, alternating"
        " (the figures are each one's median run);"
        f" {MESSAGES_PER_REQUEST} messages from {MESSAGES_PER_REQUEST} distinct chats per request, every message id"
        " unique. The api runs with the shipped settings (BATCH_IDLE_SECONDS=9: each chat's flush waits);"
        " the bare endpoint does SET NX + RPUSH + ZADD per message in one pipeline. Same redis-server"
        " (appendonly yes, appendfsync always), emptied before each run.",
        "| endpoint | run | msg/s | req/s | p50 ms | p99 ms | statuses |\n|---|---|---|---|---|---|---|\n"
        + "\n".join(rows),
    ]
    return section
