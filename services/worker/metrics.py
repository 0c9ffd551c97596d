"""The worker's metrics port: what every process of the worker counted, each worker process's included.

The worker's main process runs no jobs; its WORKER_PROCESSES forked processes do, and what a process
counts in its own memory is out of the port's reach (and dies with it). So the worker runs
prometheus-client's multiprocess mode: every process writes its values to files under
``PROMETHEUS_MULTIPROC_DIR`` (supervisord and the tests set it; prometheus-client reads it when it is
imported), and this port adds the files up when Prometheus scrapes.

* The directory is wiped when the worker's main process starts, before it forks any worker process: the
  files of an earlier run would otherwise be added to this one's, and a restart looks like a counter
  reset to Prometheus anyway.
* A worker process that exits (killed, restarted by the pool) leaves its files behind (one pid, one file
  per type). Each scrape folds the files of processes that have exited into one archive per type (their
  sums, which is all Prometheus sees of them), so a scrape reads a few files however many have come and gone.
* Bound to ``WORKER_METRICS_HOST`` (127.0.0.1 by default), without a key, like the api's and the
  gateway's ``/metrics``: docs/operations.md, "Metrics".
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector

from shared.logging import get_logger

log = get_logger(__name__)

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
COMPACTED_TYPES = ("counter", "histogram")
"""Values that add up across processes; the worker has no gauges (they would need a live process)."""
ARCHIVE = "archive"
"""The pid part of an archive's file name (``counter_archive.db``): never a live process's."""


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_DIR_VARIABLE, "").strip()
    return Path(value) if value else None


def wipe(directory: Path) -> None:
    """Start from nothing: called before this process counts anything (shared/metrics.py says why that holds)."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)


def _pid(file: Path) -> int | None:
    """The writer's pid from ``<type>_<pid>.db`` (``gauge_<mode>_<pid>.db``); None for an archive."""
    tail = file.stem.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _exited(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False  # alive, or a process the pool has not reaped yet: folded at a later scrape


def compact(directory: Path) -> int:
    """Fold the counter and histogram files of exited processes into one archive per type; returns how many.

    A process writes only its own files, and one that has exited writes nothing more, so its values can
    be added to the archive and its file removed without losing or doubling anything.
    """
    folded = 0
    for kind in COMPACTED_TYPES:
        finished = [
            file
            for file in sorted(directory.glob(f"{kind}_*.db"))
            if (pid := _pid(file)) is not None and pid != os.getpid() and _exited(pid)
        ]
        if not finished:
            continue
        archive = MmapedDict(str(directory / f"{kind}_{ARCHIVE}.db"))  # type: ignore[no-untyped-call]
        try:
            for file in finished:
                for key, value, timestamp, _position in MmapedDict.read_all_values_from_file(str(file)):  # type: ignore[no-untyped-call]
                    total, _ = archive.read_value(key)  # type: ignore[no-untyped-call]
                    archive.write_value(key, total + value, timestamp)  # type: ignore[no-untyped-call]
                file.unlink()
                folded += 1
        finally:
            archive.close()  # type: ignore[no-untyped-call]
    return folded


class WorkerCollector:
    """Every process's values, read from the directory after folding the exited ones."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        """Two scrapes at once must not fold the same file twice."""

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            compact(self._directory)
            files = [str(file) for file in self._directory.glob("*.db")]
            return list(MultiProcessCollector.merge(files, accumulate=True))  # type: ignore[no-untyped-call]


def serve_metrics(host: str, port: int) -> bool:
    """Start the metrics port in a thread of the worker's main process; False when it can't be served.

    Never fatal: a worker that answers clients without metrics is better than one that doesn't answer.
    """
    directory = multiprocess_dir()
    if directory is not None:
        wipe(directory)
    if port == 0:
        log.info("Worker metrics port disabled (WORKER_METRICS_PORT=0)")
        return False
    if directory is None:
        log.warning(
            "Worker metrics port not started: without PROMETHEUS_MULTIPROC_DIR what the worker processes count is lost"
            " (supervisord and the tests set it)"
        )
        return False
    registry = CollectorRegistry()
    registry.register(WorkerCollector(directory))
    try:
        server, _thread = start_http_server(port, host, registry)
    except OSError as error:
        log.error("Worker metrics port not started", host=host, port=port, error=str(error))
        return False
    # Every worker process is a fork of this one: without this it would hold the listening socket open, and
    # a worker restarted while an orphaned process still finishes its job could not bind it.
    os.register_at_fork(after_in_child=server.socket.close)
    log.info("Worker metrics served", url=f"http://{host}:{port}/metrics", directory=str(directory))
    return True
