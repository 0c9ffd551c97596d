"""``make install`` gives the operator ``.venv/bin/ai-admin``, and it runs from any directory.

The Makefile's own rule writes the command into a scratch venv whose ``python`` hands over to this one,
so the test exercises the real recipe without reinstalling anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.ports import free_port
from tests.support.services import REPO_ROOT


def scratch_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    (venv / ".installed").touch()  # newer than requirements.lock: make does not reinstall the lock
    return venv


def make(*args: str) -> subprocess.CompletedProcess[str]:
    # Not the flags of a `make test` this suite may run under: its -n, -s or jobserver are not this make's.
    env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO_ROOT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_install_includes_the_ai_admin_command(tmp_path: Path) -> None:
    venv = scratch_venv(tmp_path)
    planned = make("-n", f"VENV={venv}", "install")
    assert planned.returncode == 0, planned.stderr
    assert f"{venv}/bin/ai-admin" in planned.stdout


def test_the_written_command_runs_the_cli_from_any_directory(tmp_path: Path) -> None:
    venv = scratch_venv(tmp_path)
    command = venv / "bin" / "ai-admin"
    written = make(f"VENV={venv}", str(command))
    assert written.returncode == 0, written.stderr
    assert os.access(command, os.X_OK)

    elsewhere = tmp_path / "elsewhere"
    # A `services` package where the operator stands must not replace the checkout's.
    (elsewhere / "services").mkdir(parents=True)
    (elsewhere / "services" / "__init__.py").write_text("raise SystemExit('the wrong services package')\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("API_", "WA_", "PYTHONPATH"))}
    helped = subprocess.run([command, "--help"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("Usage: ai-admin [OPTIONS] COMMAND [ARGS]...")

    port = free_port()
    down = subprocess.run(
        [command, "send", "79001234567", "hello"],
        cwd=elsewhere,
        env={**env, "API_PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert down.returncode == 1
    assert down.stderr.startswith(f"ai-admin: the api at http://127.0.0.1:{port} does not answer (ConnectError)")
    assert down.stderr.count("\n") == 1
