"""Entry-point helpers: the command line, settings, logging, the Redis check and the listening
socket, each failing with one line."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic_settings import BaseSettings

from shared.config import SettingsT, load_settings
from shared.errors import ConfigurationError
from shared.logging import configure_logging
from shared.redis_client import check_reachable

if TYPE_CHECKING:
    from starlette.types import ASGIApp

STARTUP_FAILURE = 3
"""uvicorn's exit status when the application's startup failed."""


@contextmanager
def exit_on_configuration_error(service: str) -> Iterator[None]:
    """A ConfigurationError inside stops the process with one line naming the problem, exit code 2."""
    try:
        yield
    except ConfigurationError as error:
        sys.stderr.write(f"{service}: configuration error: {error}\n")
        raise SystemExit(2) from None


def parse_command_line(
    module: str,
    summary: str,
    settings_cls: type[BaseSettings],
    variables: Sequence[tuple[str, str]],
    argv: Sequence[str] | None = None,
) -> None:
    """``--help`` prints what the service is and its main variables, then exits 0; it takes no arguments.

    Settings come only from the environment and ``.env``, so anything else on the command line is a
    mistake and exits 2 with the usage, instead of starting a service that ignores it.
    """
    lines = ["main variables (environment or .env; defaults in brackets):"]
    width = max(len(name) for name, _ in variables)
    for name, meaning in variables:
        lines.append(f"  {name:<{width}}  {meaning} [{_default_of(settings_cls, name)}]")
    lines.append("")
    lines.append("Every variable, with its meaning: docs/configuration.md and .env.example.")
    lines.append("The stack runs under supervisord: make run (foreground) or make start (background).")
    parser = argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=summary,
        epilog="\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.parse_args(argv)


def _default_of(settings_cls: type[BaseSettings], variable: str) -> str:
    for name, field in settings_cls.model_fields.items():
        if (field.alias or name.upper()) == variable:
            default = field.get_default(call_default_factory=True)
            secret = getattr(default, "get_secret_value", None)
            value = secret() if secret is not None else default
            if isinstance(value, bool):
                return str(value).lower()
            return str(value) if value not in (None, "") else "empty"
    return "see docs/configuration.md"


def prepare_process(service: str, settings_cls: type[SettingsT]) -> SettingsT:
    """Load settings, check Redis and configure logging; on any problem print one line, exit 2."""
    with exit_on_configuration_error(service):
        settings = load_settings(settings_cls)
        check_reachable(settings.redis_url)
    configure_logging(service, settings)
    return settings


def listening_socket(service: str, host: str, port: int, port_variable: str) -> socket.socket:
    """The server's socket, bound before anything else starts; a taken port stops the process (exit 2).

    uvicorn binds only after the application's startup, so a service whose port is taken would first
    start its work (a gateway: the lease, the WhatsApp connection) and then have to unwind all of it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        reason = (error.strerror or str(error)).lower()
        sys.stderr.write(
            f"{service}: cannot listen on {host}:{port} ({port_variable}): {reason};"
            f" is another {service} (or another program) using it? See `make status`.\n"
        )
        raise SystemExit(2) from None
    return sock


def serve(service: str, app: ASGIApp, host: str, port: int, port_variable: str, graceful_seconds: int) -> None:
    """Run ``app`` under uvicorn on ``host:port``; exits non-zero when the port is taken or startup fails."""
    import uvicorn  # noqa: PLC0415 - here, not at the top: the worker, which serves no app, need not load it

    sock = listening_socket(service, host, port, port_variable)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, timeout_graceful_shutdown=graceful_seconds)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        raise SystemExit(STARTUP_FAILURE)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` on this host still runs. A zombie is dead too: a killed process lingers
    as one until its parent reaps it, and must not keep a lock it held."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc to ask: it may be alive
    return state not in ("Z", "X")
