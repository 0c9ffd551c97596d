"""``python -m bench`` (``make bench``): every measurement beside its baseline, one report.

Starts its own redis-server (appendonly yes, appendfsync always, as ``make run`` configures the local one) and,
per measurement, the stack with the shipped defaults on free ports in a scratch directory; writes
``bench/reports/bench.md`` and ``bench.json`` (``--quick``: shorter runs, ``bench-quick.*``; ``--only``: some
measurements, ``bench-partial.*``). A target that is not met is reported, not an error: the command fails
only when a measurement could not be taken.

    python -m bench                       # the full run, about 10 minutes
    python -m bench --quick               # every measurement, short (to work on the harness)
    python -m bench --only ingest,latency
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
import structlog

from bench import cold_start, ingest, latency, memory, redis_memory, turns, workers
from bench.common import Section, machine, versions
from bench.report import write
from tests.support.redis_server import RedisServer

Measure = Callable[[Path, str, bool, dict[str, dict[str, Any]]], Section]

MEASUREMENTS: dict[str, tuple[str, Measure]] = {
    "cold_start": ("5. Cold start under supervisord", cold_start.measure),
    "ingest": ("1. Webhook ingest", ingest.measure),
    "latency": ("2. Pipeline overhead", latency.measure),
    "workers": ("3. Worker throughput", workers.measure),
    "redis": ("6. Redis bytes per client", redis_memory.measure),
    "turns": ("7. Turn time and YClients calls", turns.measure),
}
"""In the order they run; the memory of the processes (4) is gathered while 1-3 run."""


def _quiet_in_process_logging() -> None:
    """The turns run in this process log every step at INFO; the report is what matters here."""
    logging.basicConfig(level=logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks of the stack (make bench)")
    parser.add_argument("--quick", action="store_true", help="short runs, to work on the harness (bench-quick.*)")
    parser.add_argument("--only", help="comma-separated: " + ",".join(MEASUREMENTS) + " (bench-partial.*)")
    arguments = parser.parse_args()
    chosen = list(MEASUREMENTS)
    if arguments.only:
        chosen = [name.strip() for name in arguments.only.split(",") if name.strip()]
        unknown = set(chosen) - set(MEASUREMENTS)
        if unknown:
            parser.error(f"unknown measurement(s): {', '.join(sorted(unknown))}")
    mode = "quick" if arguments.quick else "full"
    name = "bench-partial" if arguments.only else ("bench-quick" if arguments.quick else "bench")
    _quiet_in_process_logging()
    started = time.perf_counter()
    meta: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "mode": mode if not arguments.only else f"{mode}, only {', '.join(chosen)}",
        "machine": machine(),
    }
    sections: list[Section] = []
    pss: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="aab-") as scratch:  # short: supervisord's socket lives under it
        root = Path(scratch)
        server = RedisServer(root / "redis", appendonly=True)
        server.start()
        try:
            meta["versions"] = versions(server.url)
            for key in chosen:
                title, measure = MEASUREMENTS[key]
                print(f"== {title}", flush=True)
                client = redis.Redis.from_url(server.url)
                client.flushall()
                client.close()
                began = time.perf_counter()
                try:
                    section = measure(root, server.url, arguments.quick, pss)
                except Exception as error:
                    traceback.print_exc()
                    section = Section(key, title, error=f"{type(error).__name__}: {error}"[:2000])
                section.seconds = round(time.perf_counter() - began, 1)
                sections.append(section)
                for figure in section.figures:
                    print(f"   {figure.name}: {figure.value} {figure.unit} -> {figure.passed}", flush=True)
        finally:
            server.stop()
    if pss:
        sections.insert(_after(sections, "workers"), memory.section(pss))
    meta["seconds"] = time.perf_counter() - started
    meta["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
    path = write(name, meta, sections)
    print(f"\nReport: {path} ({meta['seconds']:.0f} s)")
    if any(section.error for section in sections):
        raise SystemExit(1)


def _after(sections: list[Section], key: str) -> int:
    for index, section in enumerate(sections):
        if section.key == key:
            return index + 1
    return len(sections)


if __name__ == "__main__":
    main()
