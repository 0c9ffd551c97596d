"""``python -m shared.cli``: small operator commands used by the Makefile."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import httpx
import redis
import typer
from rq import Worker

from shared.config import CommonSettings, load_settings
from shared.errors import ConfigurationError
from shared.queueing import inbound_queue

app = typer.Typer(add_completion=False, no_args_is_help=True)

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", ""})


@app.callback()
def main() -> None:
    """Operator commands for the AI Admin stack."""


@app.command()
def redis_plan(
    program_file: Annotated[Path, typer.Option(help="supervisord include file to write or remove")],
) -> None:
    """Use REDIS_URL's Redis when it answers; otherwise write a supervisord program for a local one."""
    try:
        settings = load_settings(CommonSettings)
    except ConfigurationError as error:
        typer.echo(f"configuration error: {error}", err=True)
        raise typer.Exit(2) from None
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
        answers = True
    except redis.RedisError:
        answers = False
    finally:
        client.close()
    if answers:
        program_file.unlink(missing_ok=True)
        typer.echo(f"Using the Redis that answers at REDIS_URL ({urlsplit(settings.redis_url).netloc.split('@')[-1]})")
        return
    parts = urlsplit(settings.redis_url)
    if parts.scheme != "redis" or (parts.hostname or "") not in LOCAL_HOSTS:
        typer.echo(f"REDIS_URL: nothing answers at {parts.hostname}:{parts.port}, and it is not local", err=True)
        raise typer.Exit(2)
    port = parts.port or 6379
    program_file.parent.mkdir(parents=True, exist_ok=True)
    program_file.write_text(_redis_program(port))
    typer.echo(f"No Redis answers at REDIS_URL; the stack runs its own redis-server on 127.0.0.1:{port} (var/redis)")


@app.command()
def wait_ready(timeout: Annotated[float, typer.Option(help="seconds to wait at most")] = 60.0) -> None:
    """Wait until wa-gateway and the api answer /health and a worker listens on the queue; `make start` runs it."""
    try:
        settings = load_settings(CommonSettings)
    except ConfigurationError as error:
        typer.echo(f"configuration error: {error}", err=True)
        raise typer.Exit(2) from None
    started = time.monotonic()
    checks: dict[str, Callable[[], bool]] = {
        "wa-gateway": lambda: _answers(_local_url(settings.wa_gateway_host, settings.wa_gateway_port)),
        "api": lambda: _answers(_local_url(settings.api_host, settings.api_port)),
        "worker": lambda: _worker_listens(settings),
    }
    waiting = dict(checks)
    while waiting and time.monotonic() - started < timeout:
        waiting = {name: check for name, check in waiting.items() if not check()}
        if waiting:
            time.sleep(0.2)
    if waiting:
        typer.echo(f"Not ready after {timeout:.0f} s: {', '.join(waiting)} (make status, make logs)", err=True)
        raise typer.Exit(1)
    typer.echo(f"Ready after {time.monotonic() - started:.1f} s: {', '.join(checks)}")


def _local_url(host: str, port: int) -> str:
    reachable = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # a wildcard listens on loopback too
    return f"http://{reachable}:{port}/health"


def _answers(url: str) -> bool:
    """Up, even if degraded: 503 is a health answer (WhatsApp not connected yet, say)."""
    try:
        return httpx.get(url, timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False


def _worker_listens(settings: CommonSettings) -> bool:
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return Worker.count(connection=client, queue=inbound_queue(client, settings.company_id)) > 0
    except redis.RedisError:
        return False
    finally:
        client.close()


def _redis_program(port: int) -> str:
    # appendonly with fsync every write: a webhook is acknowledged only after its messages are stored.
    command = (
        f"redis-server --port {port} --bind 127.0.0.1 --dir %(here)s/../redis --appendonly yes"
        ' --appendfsync always --save "" --maxmemory-policy noeviction --daemonize no'
    )
    return f"""; Written by `make run`/`make start` because nothing answered at REDIS_URL.
[program:redis]
command={command}
directory=%(here)s/../redis
priority=1
autostart=true
autorestart=true
startsecs=1
stopsignal=TERM
stopwaitsecs=30
redirect_stderr=true
stdout_logfile=%(here)s/../log/redis.out.log
stdout_logfile_maxbytes=10MB
stdout_logfile_backups=3
"""


if __name__ == "__main__":
    app()
