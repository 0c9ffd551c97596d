"""4. PSS of each process, at idle and under load, gathered while measurements 1-3 run.

PSS (``/proc/PID/smaps_rollup``) counts a page shared by k processes as 1/k to each, so the PSS of a process tree
is what it really costs, and a forked process adds only what it does not share. Each service is its main process
with every descendant. The worker forks WORKER_PROCESSES worker processes from a main process that runs no job:
the figure per worker process is the largest of them, the main process is listed beside it. (A worker without
WORKER_PROCESSES runs its jobs itself: then it is the tree divided by the number of workers.)
Target: each worker process ≤ 60 MB.
"""

from __future__ import annotations

from typing import Any

from bench.common import Figure, Section
from bench.stack import worker_processes_default

WORKER_TARGET_MB = 60.0


def _mb(kb: float) -> float:
    return round(kb / 1024, 1)


def _worker_figures(name: str, sample: dict[str, Any]) -> list[Figure]:
    workers = int(sample.get("worker_processes") or 1)
    children = sample.get("children_kb") or []
    when = name.removeprefix("worker").strip()
    if worker_processes_default() is not None and children:
        each = _mb(max(children))
        note = (
            f"largest of {len(children)}, mean {_mb(sum(children) / len(children))} MB; main process"
            f" {_mb(sample['roots_kb'])} MB; all {_mb(sample['kb'])} MB = {_mb(sample['kb'] / workers)} MB a process"
        )
        return [Figure(f"PSS per worker process, {when}", each, "MB", WORKER_TARGET_MB, "<=", "≤ 60 MB", note=note)]
    note = f"{sample['processes']} processes in {workers} worker(s), work horses included"
    return [
        Figure(
            f"PSS per worker process, {when}",
            _mb(sample["kb"] / workers),
            "MB",
            WORKER_TARGET_MB,
            "<=",
            "≤ 60 MB",
            note=note,
        )
    ]


def section(pss: dict[str, dict[str, Any]]) -> Section:
    result = Section("memory", "4. Memory of the processes (PSS, children included)")
    rows = []
    for name, sample in pss.items():
        if not sample:
            continue
        if name.startswith("worker"):
            result.figures.extend(_worker_figures(name, sample))
        elif not name.startswith("bare"):
            summary = name.endswith("idle")
            result.figures.append(Figure(f"PSS {name}", _mb(sample["kb"]), "MB", note="no target", summary=summary))
        children = sample.get("children_kb") or []
        rows.append(
            f"| {name} | {_mb(sample['kb'])} | {sample['processes']} | {_mb(sample.get('roots_kb', 0))} | "
            + (", ".join(str(_mb(kb)) for kb in children) or "–")
            + " |"
        )
    result.details = {"pss_kb": pss}
    result.text = [
        "Peak PSS while each load ran (sampled every 0.5 s); idle is after start-up and a few warm-up turns. The bare"
        " endpoint of measurement 1 is listed for comparison.",
        "| process tree | PSS MB, all | processes | main process MB | each child MB |\n|---|---|---|---|---|\n"
        + "\n".join(rows),
    ]
    return result
