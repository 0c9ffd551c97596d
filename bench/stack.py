"""The stack as it ships: the three services with the code's own defaults, on free ports, in a scratch directory.

Unlike the test suite's ``tests.support.services.Stack`` (APP_ENV=test, 1 s maintenance, no pause between reply
parts...), the environment here holds only what a machine needs (PATH, HOME, locale), where the stack listens and
keeps its files, and what a measurement changes on purpose (``overrides``: BATCH_IDLE_SECONDS=0 and so on). The
working directory is the scratch directory, so a developer's ``.env`` does not leak in either.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import redis
from rq import Worker

from bench.common import COMPANY, free_port
from services.worker.settings import WorkerSettings
from shared.queueing import inbound_queue
from tests.support.services import MODULES, REPO_ROOT, ServiceProcess, _answers
from tests.support.waiting import wait_for

MACHINE_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")

READY_SECONDS = 90


def worker_processes_default() -> int | None:
    """How many worker processes the worker ships with (WORKER_PROCESSES' default), or None when it has no such
    setting (one process, then)."""
    for setting in WorkerSettings.model_fields.values():
        if setting.alias == "WORKER_PROCESSES":
            default = setting.get_default(call_default_factory=True)
            return int(default) if isinstance(default, int) else 1
    return None


@dataclass
class BenchStack:
    root: Path
    redis_url: str
    overrides: dict[str, str] = field(default_factory=dict)
    api_port: int = field(default_factory=free_port)
    gateway_port: int = field(default_factory=free_port)
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    workers: list[str] = field(default_factory=list)
    """Names of the worker services started: one, or N when the worker has no WORKER_PROCESSES."""
    worker_processes: int = 1

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.env = {key: value for key, value in os.environ.items() if key in MACHINE_VARIABLES}
        self.env.update(
            {
                "PYTHONPATH": str(REPO_ROOT),
                "REDIS_URL": self.redis_url,
                "API_PORT": str(self.api_port),
                "WA_GATEWAY_PORT": str(self.gateway_port),
                "DATA_DIR": str(self.root / "data"),
                "LOG_DIR": str(self.root / "log"),
            }
        )
        self.env.update(self.overrides)
        for name in ("wa-gateway", "api"):
            self.services[name] = ServiceProcess(name, dict(self.env), self.root / "out" / f"{name}.out", self.root)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def start(self, *names: str) -> None:
        for name in names:
            self.services[name].start()
        for name in names:
            self._wait_http(name)

    def _wait_http(self, name: str) -> None:
        service = self.services[name]
        url = self.gateway_url if name == "wa-gateway" else self.api_url
        wait_for(lambda: _answers(f"{url}/health") or not service.running, READY_SECONDS, f"{name} /health")
        if not service.running:
            raise RuntimeError(f"{name} exited:\n{service.output()[-3000:]}")

    def start_workers(self, count: int | None = None, extra: dict[str, str] | None = None) -> int:
        """``count`` worker processes; None: as shipped (WORKER_PROCESSES' default, or one). Returns how many.

        With WORKER_PROCESSES the worker forks its processes itself: one worker service is started with it, as
        supervisord's program is. Without it (an older worker), ``count`` worker services run side by side.
        Each service gets its own PROMETHEUS_MULTIPROC_DIR (a worker wipes it at start) and the first the
        metrics port; the others have it off, as two can't share a port.
        """
        self.stop_workers()
        shipped = worker_processes_default()
        count = count or shipped or 1
        self.worker_processes = count
        for index in range(1 if shipped is not None else count):
            name = "worker" if index == 0 else f"worker-{index}"
            env = dict(self.env)
            env.update(
                {
                    "PROMETHEUS_MULTIPROC_DIR": str(self.root / f"metrics-{name}"),
                    "WORKER_METRICS_PORT": str(free_port()) if index == 0 else "0",
                }
            )
            if shipped is not None and count != shipped:
                env["WORKER_PROCESSES"] = str(count)
            env.update(extra or {})
            service = ServiceProcess(name, env, self.root / "out" / f"{name}.out", self.root, module=MODULES["worker"])
            self.services[name] = service
            self.workers.append(name)
            service.start()
        client = redis.Redis.from_url(self.redis_url)
        queue = inbound_queue(client, COMPANY)
        try:

            def registered() -> bool:
                for name in self.workers:
                    # An AssertionError ends wait_for at once: an exited worker won't register.
                    assert self.services[name].running, f"{name} exited:\n{self.services[name].output()[-3000:]}"
                return bool(Worker.count(connection=client, queue=queue) >= count)

            wait_for(registered, READY_SECONDS, f"{count} workers to register with RQ")
        finally:
            client.close()
        return count

    def stop_workers(self) -> None:
        for name in self.workers:
            self.services.pop(name).stop(timeout=60)
        self.workers.clear()

    def stop(self) -> None:
        self.stop_workers()
        for service in self.services.values():
            service.stop()

    def groups(self) -> dict[str, list[int]]:
        """The main pid of each running service, the worker processes together under "worker"."""
        found: dict[str, list[int]] = {}
        for name, service in self.services.items():
            if service.process is not None and service.running:
                found.setdefault("worker" if name in self.workers else name, []).append(service.process.pid)
        return found
