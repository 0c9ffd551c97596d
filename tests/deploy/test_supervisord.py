"""deploy/supervisord.conf runs the stack: four programs RUNNING, health answers, supervisorctl works.

The real config file is used from a scratch copy of the repository layout (symlinks), so the
test gets its own var/ directory and never touches a stack a developer has running.
"""

from __future__ import annotations

import configparser
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.config import CommonSettings
from shared.queueing import job_timeout
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer
from tests.support.services import REPO_ROOT
from tests.support.waiting import wait_for


@pytest.fixture
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A short path: supervisord's socket lives under it, and a unix socket's path may not exceed 108 bytes
    # (a test-named tmp_path under an xdist worker's directory does).
    root = tmp_path_factory.mktemp("sv") / "checkout"
    (root / "deploy").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "deploy" / "supervisord.conf", root / "deploy" / "supervisord.conf")
    for name in ("services", "shared", ".venv"):
        (root / name).symlink_to(REPO_ROOT / name)
    for directory in ("log", "run", "data", "redis", "supervisor"):
        (root / "var" / directory).mkdir(parents=True)
    return root


def environment(redis_url: str, api_port: int, gateway_port: int, worker_metrics_port: int = 0) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    env.update(
        {
            "REDIS_URL": redis_url,
            "API_PORT": str(api_port),
            "WA_GATEWAY_PORT": str(gateway_port),
            "WORKER_METRICS_PORT": str(worker_metrics_port),
            "LOG_DIR": "var/log",
            "DATA_DIR": "var/data",
        }
    )
    return env


def supervisorctl(root: Path, *args: str) -> str:
    result = subprocess.run(
        [str(REPO_ROOT / ".venv/bin/supervisorctl"), "-c", str(root / "deploy/supervisord.conf"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout


@pytest.fixture
def running_stack(checkout: Path, redis_url: str) -> Iterator[tuple[Path, int, int, int]]:
    api_port, gateway_port, worker_metrics_port = free_port(), free_port(), free_port()
    supervisord = subprocess.Popen(
        [str(REPO_ROOT / ".venv/bin/supervisord"), "-n", "-c", str(checkout / "deploy/supervisord.conf")],
        cwd=checkout,
        env=environment(redis_url, api_port, gateway_port, worker_metrics_port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield checkout, api_port, gateway_port, worker_metrics_port
    supervisorctl(checkout, "shutdown")
    try:
        supervisord.wait(60)
    except subprocess.TimeoutExpired:
        supervisord.kill()


def test_the_stack_comes_up_under_supervisord_and_supervisorctl_controls_it(
    running_stack: tuple[Path, int, int, int],
) -> None:
    root, api_port, gateway_port, worker_metrics_port = running_stack
    health = wait_for(
        lambda: httpx.get(f"http://127.0.0.1:{gateway_port}/health", timeout=2).json(), 30, "gateway /health"
    )
    assert health["service"] == "wa-gateway"

    def all_running() -> str | None:
        status = supervisorctl(root, "status")
        lines = [line for line in status.splitlines() if line.strip()]
        return status if len(lines) == 4 and all("RUNNING" in line for line in lines) else None

    status = wait_for(all_running, 30, "four programs RUNNING")
    assert {line.split()[0] for line in status.splitlines()} == {"wa-gateway", "api", "worker", "scheduler"}

    assert "api: started" in supervisorctl(root, "restart", "api")
    wait_for(lambda: httpx.get(f"http://127.0.0.1:{api_port}/health", timeout=2).status_code == 200, 30, "api")
    assert "worker" in supervisorctl(root, "tail", "worker") or (root / "var/log/worker.out.log").exists()
    assert (root / "var/log/wa-gateway.json.log").exists()
    # The worker's program sets PROMETHEUS_MULTIPROC_DIR: without it the worker serves no metrics port.
    wait_for(
        lambda: httpx.get(f"http://127.0.0.1:{worker_metrics_port}/metrics", timeout=2).status_code == 200,
        30,
        "the worker's metrics port",
    )
    assert (root / "var/metrics").is_dir()


def make(root: Path, env: dict[str, str], target: str) -> subprocess.CompletedProcess[str]:
    """The repository's Makefile in the scratch checkout; ``install`` is taken as done (the venv is linked)."""
    return subprocess.run(
        ["make", "--no-print-directory", "-o", "install", target],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,  # above STOP_TIMEOUT_SECONDS: make stop reports a stuck supervisord itself
    )


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a daemon's zombie waits for whoever adopted it to reap it


def port_is_free(port: int) -> bool:
    """Free for a server: like uvicorn, the probe reuses the address, as the health checks' closed
    connections leave it in TIME_WAIT for a minute; only a listener still holding it counts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_make_stop_returns_once_the_stack_is_down_and_make_start_on_a_running_stack_says_so(
    checkout: Path, redis_url: str
) -> None:
    shutil.copy(REPO_ROOT / "Makefile", checkout / "Makefile")
    api_port, gateway_port = free_port(), free_port()
    env = environment(redis_url, api_port, gateway_port)
    health = f"http://127.0.0.1:{gateway_port}/health"
    try:
        started = make(checkout, env, "start")
        assert started.returncode == 0, started.stdout + started.stderr
        # make start returns once the stack is ready, not after a fixed sleep: nothing to wait for here.
        assert "Ready after" in started.stdout, started.stdout
        assert httpx.get(health, timeout=2).status_code == 200

        again = make(checkout, env, "start")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "already running" in again.stdout
        assert "Another program is already listening" not in again.stdout + again.stderr

        pid = int((checkout / "var/run/supervisord.pid").read_text())
        stopped = make(checkout, env, "stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        # Checked the moment make returns, without waiting: that is what `make stop && make start` relies on.
        assert not running(pid), "make stop returned while supervisord was still running"
        assert port_is_free(gateway_port)
        assert port_is_free(api_port)

        restarted = make(checkout, env, "start")
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        wait_for(lambda: httpx.get(health, timeout=2).status_code == 200, 60, "the gateway after stop && start")
    finally:
        make(checkout, env, "stop")
    assert "not running" in make(checkout, env, "stop").stdout


def test_without_a_redis_at_redis_url_the_stack_runs_its_own(checkout: Path, tmp_path: Path) -> None:
    port = free_port()
    program = checkout / "var/supervisor/redis.conf"
    env = environment(f"redis://127.0.0.1:{port}/0", free_port(), free_port())
    result = subprocess.run(
        [str(REPO_ROOT / ".venv/bin/python"), "-m", "shared.cli", "redis-plan", "--program-file", str(program)],
        cwd=checkout,
        env={**env, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"--port {port}" in program.read_text()
    assert "--appendonly yes" in program.read_text()

    server = RedisServer(tmp_path / "external")
    server.start()
    try:
        env["REDIS_URL"] = server.url
        subprocess.run(
            [str(REPO_ROOT / ".venv/bin/python"), "-m", "shared.cli", "redis-plan", "--program-file", str(program)],
            cwd=checkout,
            env={**env, "PYTHONPATH": str(REPO_ROOT)},
            check=True,
            timeout=60,
            capture_output=True,
        )
        assert not program.exists()
    finally:
        server.stop()


def test_supervisord_waits_longer_for_the_worker_than_its_longest_job() -> None:
    """A deploy must let the current job finish: SIGTERM, then up to stopwaitsecs before SIGKILL."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(REPO_ROOT / "deploy" / "supervisord.conf")
    longest_turn = CommonSettings.model_fields["turn_timeout_seconds"].metadata
    ceiling = next(item.le for item in longest_turn if getattr(item, "le", None) is not None)
    assert int(config["program:worker"]["stopwaitsecs"]) > job_timeout(ceiling)
