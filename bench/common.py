"""What every measurement shares: a figure with its target, percentiles, PSS, the machine and the versions."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import redis

from tests.support.services import REPO_ROOT, descendants

COMPANY = "962302"
"""The default COMPANY_ID: every stack of the bench serves it."""

Op = Literal["<=", ">="]


@dataclass
class Figure:
    """One measured number against its target: ``compared op target`` passes.

    ``compared`` is what the target is about; it is ``value`` unless the target is a share of the baseline
    (the api's ingest rate as a share of the bare endpoint's). ``ratio`` is compared / target: at most 1
    passes a ``<=`` target, at least 1 a ``>=`` one. ``passed`` is None when nothing could be measured.
    """

    name: str
    value: float | None
    unit: str
    target: float | None = None
    op: Op = "<="
    target_text: str = ""
    baseline: float | None = None
    baseline_text: str = ""
    compared: float | None = None
    note: str = ""
    summary: bool = True
    """Listed in the report's summary table too (figures without a target only when they are headline numbers)."""

    @property
    def measured(self) -> float | None:
        return self.compared if self.compared is not None else self.value

    @property
    def ratio(self) -> float | None:
        if self.measured is None or not self.target:
            return None
        return self.measured / self.target

    @property
    def passed(self) -> bool | None:
        if self.measured is None or self.target is None:
            return None
        return self.measured <= self.target if self.op == "<=" else self.measured >= self.target

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": _round(self.ratio, 3), "passed": self.passed}


@dataclass
class Section:
    """One measurement's result: its figures, the details behind them, and what the numbers mean."""

    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)
    """Markdown paragraphs and tables for the report, after the figures."""
    seconds: float = 0.0
    error: str = ""


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95, p99 and max of ``samples`` (same unit), linear between the order statistics."""
    if not samples:
        return {}
    if len(samples) == 1:
        only = samples[0]
        return {"p50": only, "p95": only, "p99": only, "max": only, "n": 1}
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": max(samples), "n": len(samples)}


def rounded(values: dict[str, float], digits: int = 1) -> dict[str, float]:
    return {key: round(value, digits) for key, value in values.items()}


# --- ports ---

_PORTS = random.Random()


def free_port() -> int:
    """A port free now, below the kernel's ephemeral range (32768-60999 by default).

    ``tests.support.ports.free_port`` asks the kernel for an ephemeral port, which an outgoing connection (the load
    generators open thousands) may take before the service binds it; a port the kernel never hands out by
    itself stays free once checked, unless another program picks the same one.
    """
    while True:
        port = _PORTS.randrange(20000, 32000)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


# --- memory of processes ---


def pss_kb(pid: int) -> int:
    """Proportional set size of one process (kB): shared pages divided among the processes sharing them."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return 0


def group_pss(pids: list[int]) -> dict[str, Any]:
    """PSS of process trees together (kB): the total, how many processes, the main processes' own PSS
    (``roots_kb``) and each descendant's (``children_kb``: work horses, forked worker processes)."""
    roots = sum(pss_kb(pid) for pid in pids)
    children = [pss_kb(child) for pid in pids for child in descendants(pid)]
    return {
        "kb": roots + sum(children),
        "processes": len(pids) + len(children),
        "roots_kb": roots,
        "children_kb": children,
    }


class PssSampler:
    """Samples the PSS of groups of process trees in a thread (``groups``: name -> the trees' main pids, asked
    anew each time); keeps each group's sample with the highest total (``peak[name]``, as ``group_pss``)."""

    def __init__(self, groups: Callable[[], dict[str, list[int]]], interval: float = 0.5) -> None:
        self._groups = groups
        self._interval = interval
        self.peak: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pids in self._groups().items():
                sample = group_pss(pids)
                if sample["kb"] > self.peak.get(name, {}).get("kb", 0):
                    self.peak[name] = sample
            self._stop.wait(self._interval)

    def __enter__(self) -> PssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


# --- the machine and the versions ---


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_mb = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_mb = int(line.split()[1]) // 1024
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)),
        "memory_mb": memory_mb,
        "kernel": platform.release(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }


KEY_PACKAGES = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "redis", "rq", "pydantic", "httpx", "openai")


def versions(redis_url: str) -> dict[str, Any]:
    found: dict[str, Any] = {"python": platform.python_version()}
    client = redis.Redis.from_url(redis_url)
    try:
        info = client.info("server")
        found["redis_server"] = str(info.get("redis_version", "?"))
    finally:
        client.close()
    for package in KEY_PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    wrk = _first_line(["wrk", "--version"]).split() if shutil.which("wrk") else []
    found["wrk"] = wrk[1].removeprefix("debian/") if len(wrk) > 1 else None
    commit = _first_line(["git", "-C", str(REPO_ROOT), "rev-parse", "--short=12", "HEAD"])
    dirty = _first_line(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"])
    found["git_commit"] = f"{commit}{' (with uncommitted changes)' if dirty else ''}"
    return found


def _first_line(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return ""
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0].strip() if lines else ""
