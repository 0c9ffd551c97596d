"""The three entry points as an operator meets them: `--help`, a port that is taken, `make help`."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
import redis

from shared.redis_keys import gateway_lease
from shared.wire import LeaseHolder
from tests.support.services import REPO_ROOT, Stack

MODULES = ("services.wa_gateway", "services.api", "services.worker", "services.scheduler")


@pytest.mark.parametrize("name", ["wa-gateway", "api"])
def test_a_service_whose_port_is_taken_exits_at_once_without_starting_anything(
    make_stack: Callable[..., Stack], redis_client: redis.Redis, name: str
) -> None:
    stack = make_stack()
    port = stack.gateway_port if name == "wa-gateway" else stack.api_port
    # Another process owns the number, so a gateway that started anyway would sit on standby: the one
    # state whose shutdown used to hang, ignoring SIGTERM, once uvicorn found the port taken.
    holder = LeaseHolder(instance="another-gateway", url="http://127.0.0.1:9", process="elsewhere:1", since=time.time())
    redis_client.set(gateway_lease("962302"), holder.to_json(), px=60_000)
    service = stack.services[name]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        service.start()
        assert service.process is not None
        try:
            returncode = service.process.wait(30)  # a ceiling against the hang, not a speed assertion
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name} still running with its port taken:\n{service.output()[-3000:]}")
    assert returncode != 0
    output = service.output()
    variable = "WA_GATEWAY_PORT" if name == "wa-gateway" else "API_PORT"
    assert f"{name}: cannot listen on 127.0.0.1:{port} ({variable}): address already in use" in output
    # Bound before the application starts: no lease taken, no WhatsApp connection begun and undone.
    assert "session owner started" not in output
    assert "Application startup" not in output
    assert "Traceback" not in output


@pytest.mark.parametrize("module", MODULES)
def test_help_says_what_the_service_is_and_where_its_settings_are_documented(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=REPO_ROOT,
        # No Redis answers here: --help must not need one, nor start anything.
        env={"PYTHONPATH": str(REPO_ROOT), "REDIS_URL": "redis://127.0.0.1:1/0", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m {module}")
    assert "docs/configuration.md" in result.stdout
    assert "REDIS_URL" in result.stdout
    assert "COMPANY_ID" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("module", MODULES)
def test_an_unknown_argument_is_refused_instead_of_ignored(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module, "--port", "4000"],
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT), "REDIS_URL": "redis://127.0.0.1:1/0", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unrecognized arguments: --port 4000" in result.stderr


def test_make_help_lists_every_target_on_one_line_each() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    targets = {
        match.group(1) for match in re.finditer(r"^([a-z][a-z0-9-]*):", makefile, re.MULTILINE) if match.group(1)
    }
    result = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for target in targets:
        described = [line for line in lines if line.split()[:1] == [target]]
        assert len(described) == 1, f"`make help` does not list {target} once:\n{result.stdout}"
        assert len(described[0].split()) > 1, f"`make help` lists {target} without saying what it does"


@pytest.mark.parametrize("module", MODULES)
def test_a_service_does_not_load_rich_which_only_the_cli_draws_with(module: str) -> None:
    probe = f"import sys; import {module}.__main__; print(sys.modules.get('rich', 'absent'))"
    service = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert service.stdout.strip() == "None", "rich got loaded (about 5 MB a process)"
    cli = subprocess.run(
        [sys.executable, "-c", "import sys, services.cli.app; import rich; print(rich.__name__)"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    assert cli.stdout.strip() == "rich"
