"""5. Cold start: supervisord with deploy/supervisord.conf until every service is healthy.

What ``make start`` does once the checkout is installed, on a scratch copy of the checkout's layout (its
deploy/supervisord.conf copied, services/, shared/ and .venv symlinked) so it has its own var/ and never touches
a stack a developer runs. Only where it listens and which Redis it uses are changed (API_PORT, WA_GATEWAY_PORT,
WORKER_METRICS_PORT, REDIS_URL: a database of the bench's own redis-server). Healthy: the gateway's and the
api's ``/health`` answer 200 (the api's needs Redis and a connected gateway) and every worker process
(WORKER_PROCESSES) has registered with RQ on the company's queue, i.e. is taking jobs.
Target: ≤ 10 s from launching supervisord.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import redis
from rq import Worker

from bench.common import COMPANY, Figure, Section, free_port
from bench.stack import worker_processes_default
from shared.queueing import inbound_queue
from tests.support.services import REPO_ROOT

TARGET_SECONDS = 10.0
GIVE_UP_SECONDS = 90.0


def checkout(root: Path) -> Path:
    (root / "deploy").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "deploy" / "supervisord.conf", root / "deploy" / "supervisord.conf")
    for name in ("services", "shared", ".venv"):
        (root / name).symlink_to(REPO_ROOT / name)
    for directory in ("log", "run", "data", "redis", "supervisor"):
        (root / "var" / directory).mkdir(parents=True)
    return root


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def once(root: Path, redis_url: str) -> dict[str, Any]:
    api_port, gateway_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    processes = worker_processes_default()  # the worker's shipped default: how many must register
    env.update(
        {
            "REDIS_URL": redis_url,
            "API_PORT": str(api_port),
            "WA_GATEWAY_PORT": str(gateway_port),
            "WORKER_METRICS_PORT": str(free_port()),
        }
    )
    config = root / "deploy" / "supervisord.conf"
    client = redis.Redis.from_url(redis_url)
    queue = inbound_queue(client, COMPANY)
    checks: dict[str, Callable[[], bool]] = {
        "wa-gateway": lambda: _ok(f"http://127.0.0.1:{gateway_port}/health"),
        "api": lambda: _ok(f"http://127.0.0.1:{api_port}/health"),
        "worker": lambda: bool(Worker.count(connection=client, queue=queue) >= (processes or 1)),
    }
    ready: dict[str, float] = {}
    started = time.perf_counter()
    supervisord = subprocess.Popen(
        [str(REPO_ROOT / ".venv/bin/supervisord"), "-n", "-c", str(config)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while len(ready) < len(checks) and time.perf_counter() - started < GIVE_UP_SECONDS:
            for name, check in checks.items():
                if name not in ready and check():
                    ready[name] = round(time.perf_counter() - started, 2)
            time.sleep(0.05)
    finally:
        subprocess.run(
            [str(REPO_ROOT / ".venv/bin/supervisorctl"), "-c", str(config), "shutdown"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        try:
            supervisord.wait(120)
        except subprocess.TimeoutExpired:
            supervisord.kill()
            supervisord.wait(10)
        client.close()
    everything = max(ready.values()) if len(ready) == len(checks) else None
    return {"seconds": everything, "ready_at": ready}


def measure(root: Path, redis_url: str, quick: bool, pss: dict[str, dict[str, Any]]) -> Section:
    section = Section("cold_start", "5. Cold start (supervisord, deploy/supervisord.conf)")
    # Its own database, so the workers other measurements registered (and left) don't count.
    url = redis_url.rsplit("/", 1)[0] + "/3"
    runs = []
    for index in range(1 if quick else 2):
        runs.append(once(checkout(root / f"cold-{index}"), url))
        redis.Redis.from_url(url).flushdb()
    timings = [run["seconds"] for run in runs]
    worst = None if None in timings else max(t for t in timings if t is not None)
    section.figures = [
        Figure(
            "cold start to every service healthy",
            worst,
            "s",
            TARGET_SECONDS,
            "<=",
            "≤ 10 s",
            note=f"slowest of {len(runs)}; "
            + "; ".join(", ".join(f"{name} {at} s" for name, at in run["ready_at"].items()) for run in runs),
        )
    ]
    section.details = {"runs": runs}
    section.text = [
        "supervisord -n -c deploy/supervisord.conf on a scratch copy of the checkout (own var/), shipped settings"
        " but the ports and REDIS_URL. Time from launching supervisord until the gateway's and the api's /health"
        " answer 200 and every worker process is registered with RQ. The first run follows nothing; Python's"
        " bytecode is cached from earlier runs, as it is on an installed checkout."
    ]
    return section
