"""The three services started as real processes, the way supervisord starts them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis

from shared import redis_keys
from shared.queueing import inbound_queue, notices_queue
from tests.support.ports import free_port
from tests.support.waiting import wait_for

REPO_ROOT = Path(__file__).resolve().parents[2]

MODULES = {
    "wa-gateway": "services.wa_gateway",
    "api": "services.api",
    "worker": "services.worker",
    "scheduler": "services.scheduler",
}
STARTED_BY_DEFAULT = ("wa-gateway", "api", "worker")
"""``Stack.start()`` with no names: the scheduler only runs in the tests about reminders and notices."""

QUICK_ABANDON = {
    "WORKER_JOB_MONITORING_INTERVAL": "1",
    "WORKER_HEARTBEAT_GRACE_SECONDS": "3",
    "CHAT_LOCK_TTL_SECONDS": "3",
}
"""For a test that kills a worker mid-job: RQ retries the job, and the chat is free, seconds after it died, not 100 s.

Not the default: under load a heartbeat late by a few seconds would have a live job retried beside itself.
"""

QUICK_TAKEOVER = {"WA_LEASE_TTL_SECONDS": "3"}
"""For a test that stops or kills a session owner: an owner renews its lease, and a standby checks it, every
second, and a dead owner's lease is gone within 3 s. Not the default, for the same reason as QUICK_ABANDON.
"""


@dataclass
class ServiceProcess:
    name: str
    env: dict[str, str]
    log_path: Path
    cwd: Path
    """Not the repository: a developer's .env there must not leak into the test's settings."""
    module: str = ""
    process: subprocess.Popen[bytes] | None = None
    orphaned_groups: list[int] = field(default_factory=list)
    """Process groups whose leader was killed alone; what is left of them goes when the service stops."""

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module or MODULES[self.name]],
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            # The whole process group, as supervisord's stopasgroup does (the worker's processes included).
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL the process and every descendant: a crash (or the OOM killer), not a shutdown.

        Every descendant, not the process group: a process that put itself in a group of its own would be missed.
        """
        if self.process is None:
            return
        doomed = [self.process.pid, *descendants(self.process.pid)]
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(10)

    def kill_main_process_only(self) -> None:
        """SIGKILL the service's own process; children it forked keep running, orphaned."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.orphaned_groups.append(self.process.pid)

    def stop(self, timeout: float = 20) -> int | None:
        # An orphaned RQ scheduler would otherwise live on into later tests, against the suite's Redis.
        for group in self.orphaned_groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        self.orphaned_groups.clear()
        if self.process is None:
            return None
        self.signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Stack:
    """gateway + api + worker against one Redis, on free ports, with their own DATA_DIR and LOG_DIR."""

    root: Path
    redis_url: str
    overrides: dict[str, str] = field(default_factory=dict)
    api_port: int = field(default_factory=free_port)
    gateway_port: int = field(default_factory=free_port)
    worker_metrics_port: int = field(default_factory=free_port)
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("WA_", "API_", "BAILEYS_"))}
        env.update(
            {
                "PYTHONPATH": str(REPO_ROOT),
                "PYTHONUNBUFFERED": "1",
                "APP_ENV": "test",
                "REDIS_URL": self.redis_url,
                "API_PORT": str(self.api_port),
                "WA_GATEWAY_PORT": str(self.gateway_port),
                "DATA_DIR": str(self.root / "data"),
                "LOG_DIR": str(self.root / "log"),
                "LOG_FORMAT": "json",
                "BATCH_IDLE_SECONDS": "1",
                "REPLY_PART_GAP_SECONDS": "0",
                "WA_RECONNECT_MIN_SECONDS": "0.5",
                "WA_RECONNECT_MAX_SECONDS": "2",
                "FORWARD_RETRY_MAX_SECONDS": "2",
                "WORKER_MAINTENANCE_INTERVAL": "1",
                "JOB_RETRY_INTERVALS": "1,1,1",
                "SCHEDULER_POLL_SECONDS": "0.5",
            }
        )
        env.update(self.overrides)
        for name in MODULES:
            self.services[name] = ServiceProcess(name, dict(env), self.root / "out" / f"{name}.out", self.root)
        # As supervisord does: only the worker (its forked worker processes) counts through files.
        worker_metrics = {
            "PROMETHEUS_MULTIPROC_DIR": str(self.root / "metrics"),
            "WORKER_METRICS_PORT": str(self.worker_metrics_port),
        }
        self.services["worker"].env.update(worker_metrics | self.overrides)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def worker_metrics_url(self) -> str:
        port = self.services["worker"].env["WORKER_METRICS_PORT"]
        return f"http://127.0.0.1:{port}/metrics"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def add_gateway(self, name: str, **overrides: str) -> tuple[ServiceProcess, str]:
        """Another session owner for the same company, with its own port and DATA_DIR."""
        port = free_port()
        env = dict(self.services["wa-gateway"].env)
        env.update({"WA_GATEWAY_PORT": str(port), "DATA_DIR": str(self.root / f"data-{name}")}, **overrides)
        service = ServiceProcess(name, env, self.root / "out" / f"{name}.out", self.root, module="services.wa_gateway")
        self.services[name] = service
        return service, f"http://127.0.0.1:{port}"

    def start(self, *names: str) -> None:
        for name in names or STARTED_BY_DEFAULT:
            self.services[name].start()
        for name in names or STARTED_BY_DEFAULT:
            self.wait_ready(name)

    def wait_ready(self, name: str) -> None:
        service = self.services[name]
        if name == "scheduler":
            wait_for(
                lambda: '"scheduler started"' in self.log("scheduler") or not service.running,
                30,
                "the scheduler to start",
            )
            assert service.running, f"scheduler exited:\n{service.output()[-3000:]}"
            return
        if name == "worker":
            wait_for(
                lambda: "started with PID" in service.output() or not service.running,
                30,
                "the worker to start",
            )
            assert service.running, f"worker exited:\n{service.output()[-3000:]}"
            return
        url = self.gateway_url if name == "wa-gateway" else self.api_url
        wait_for(
            lambda: _answers(f"{url}/health") or not service.running,
            30,
            f"{name} to answer /health",
        )
        assert service.running, f"{name} exited:\n{service.output()[-3000:]}"

    def log(self, name: str) -> str:
        """A service's JSON log, one JSON object a line (every worker process's, for the worker)."""
        return "\n".join(self.log_lines(name))

    def restart(self, name: str) -> None:
        self.services[name].stop()
        self.services[name].start()
        self.wait_ready(name)

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()

    def worker_processes(self) -> set[int]:
        """The live worker processes the worker's main process forked (WORKER_PROCESSES of them once started)."""
        main = self.services["worker"].process
        if main is None or main.poll() is not None:
            return set()
        return {pid for pid in descendants(main.pid) if running(pid)}

    def log_lines(self, service: str) -> list[str]:
        """The service's JSON log lines: the worker's are in one file per process (worker.json.log for the
        pool's main process, worker-<n>.json.log for each worker process)."""
        lines: list[str] = []
        for path in sorted((self.root / "log").glob(f"{service}*.json.log")):
            lines.extend(path.read_text(errors="replace").splitlines())
        return lines

    # --- the simulator: what a client writes, and what WhatsApp received ---

    def client_writes(self, phone: str, text: str, message_id: str | None = None, push_name: str | None = None) -> str:
        body: dict[str, Any] = {"from": phone, "message": text}
        if message_id:
            body["messageId"] = message_id
        if push_name:
            body["pushName"] = push_name
        response = httpx.post(f"{self.gateway_url}/simulator/inbound", json=body, timeout=10)
        response.raise_for_status()
        return str(response.json()["messageId"])

    def salon_writes(self, phone: str, text: str) -> str:
        """The salon answers ``phone`` from its own WhatsApp (a "fromMe" message)."""
        response = httpx.post(
            f"{self.gateway_url}/simulator/salon-message", json={"to": phone, "message": text}, timeout=10
        )
        response.raise_for_status()
        return str(response.json()["messageId"])

    def outbox(self, phone: str | None = None) -> list[dict[str, Any]]:
        params = {"phone": phone} if phone else {}
        response = httpx.get(f"{self.gateway_url}/simulator/outbox", params=params, timeout=10)
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages

    def gateway_health(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{self.gateway_url}/health", timeout=10).json()
        return body

    def at_rest(self) -> bool:
        """Nothing is left that could still reach a client: the gateway has forwarded its whole journal,
        no chat is due for a flush, and the worker's queues have no job waiting, scheduled or running
        (an abandoned job counts as running until RQ retries it). What hasn't been sent by now never will be."""
        if self.gateway_health()["journal"]["backlog"]:
            return False
        client = redis.Redis.from_url(self.redis_url)
        try:
            company_id = self.services["worker"].env.get("COMPANY_ID", "962302")
            if client.zcard(redis_keys.due_chats(company_id)):
                return False  # a chat waits for its batch window or for the dispatcher
            return not any(
                client.llen(queue.key)
                or client.llen(queue.intermediate_queue_key)
                or client.zcard(queue.scheduled_job_registry.key)
                or client.zcard(queue.started_job_registry.key)
                for queue in (inbound_queue(client, company_id), notices_queue(client, company_id))
            )
        finally:
            client.close()


def running(pid: int) -> bool:
    """Alive: a zombie has exited, its parent just hasn't reaped it yet."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False
