"""``ai-admin status``: is the receptionist answering, and if not, which part is wrong. One table; exit 1 on a FAIL.

Read-only everywhere: the services' ``/health`` (which never touch WhatsApp) and plain Redis reads, never
RQ's registry ``count``, which moves abandoned jobs as a side effect.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import redis
import typer
from rq import Worker

from services.cli.context import Target, target
from services.cli.errors import CliError
from services.cli.output import ago, echo_json, plus, table
from shared import redis_keys
from shared.queueing import inbound_queue
from shared.wire import GATEWAY_HEALTH_PATH, LeaseHolder, SessionStatus

State = Literal["ok", "WARN", "FAIL", "?"]

JOURNAL_STUCK_SECONDS = 60
"""A journalled message older than this has not reached the api: forwarding is failing, not just busy."""

HINTS = {
    SessionStatus.QR: "waiting for a QR scan: ai-admin pair",
    SessionStatus.QR_EXPIRED: "the QR expired unscanned: ai-admin pair",
    SessionStatus.LOGGED_OUT: "the phone unlinked this device: ai-admin pair",
    SessionStatus.REPLACED: "another client took the session (440): stop it, then ai-admin reconnect",
    SessionStatus.STOPPED: "stopped after repeated failures: ai-admin reconnect",
    SessionStatus.BANNED: "WhatsApp banned the number",
    SessionStatus.OUTDATED: "WhatsApp refuses this client version: upgrade neonize",
    SessionStatus.STANDBY: "another process holds the lease (see lease)",
}


@dataclass
class Check:
    name: str
    state: State
    detail: str


@dataclass
class Report:
    checks: list[Check]
    raw: dict[str, Any]

    @property
    def ok(self) -> bool:
        return all(check.state != "FAIL" for check in self.checks)

    def add(self, name: str, state: State, detail: str) -> None:
        self.checks.append(Check(name, state, detail))


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print the checks and the raw health as JSON")] = False,
) -> None:
    """Is everything up? One table; exits 1 on any FAIL.

    Checks the gateway, WhatsApp, the lease, the api, Redis, the queue, its worker and failed jobs.
    Exits 1 when any line says FAIL (a service down, WhatsApp not connected, nobody owning the session),
    so it can be scripted: `ai-admin status >/dev/null || alert`. WARN lines do not change the exit code.
    """
    report = collect(target(ctx))
    if as_json:
        echo_json({"ok": report.ok, "checks": [asdict(check) for check in report.checks], **report.raw})
    else:
        typer.echo(table(["CHECK", "STATE", "DETAIL"], [[c.name, _styled(c.state), c.detail] for c in report.checks]))
    if not report.ok:
        raise typer.Exit(1)


def _styled(state: State) -> str:
    colour = {"ok": typer.colors.GREEN, "WARN": typer.colors.YELLOW, "FAIL": typer.colors.RED}.get(state)
    return typer.style(state, fg=colour, bold=state == "FAIL") if colour else state


def collect(where: Target) -> Report:
    report = Report([], {})
    gateway = _gateway(where, report)
    api = _api(where, report)
    _whatsapp(report, gateway, api)
    _redis(where, report)
    return report


def _gateway(where: Target, report: Report) -> dict[str, Any] | None:
    try:
        response = where.gateway().raw("GET", GATEWAY_HEALTH_PATH)
        health: dict[str, Any] = response.json()
    except CliError as error:
        report.add("gateway", "FAIL", error.message)
        return None
    except ValueError:
        report.add(
            "gateway", "FAIL", f"{where.gateway_url}{GATEWAY_HEALTH_PATH} answered {response.status_code}, not JSON"
        )
        return None
    report.raw["gateway"] = health
    report.add("gateway", "ok", f"{where.gateway_url} answers; transport {health.get('transport')}")
    journal = health.get("journal") or {}
    backlog = int(journal.get("backlog") or 0)
    oldest = journal.get("oldestAgeSeconds")
    rejected = int(journal.get("rejected") or 0)
    detail = f"{backlog} waiting for the api"
    if backlog and oldest is not None:
        detail += f", oldest {ago(oldest)}"
    detail += f"; {journal.get('delivered', 0)} delivered since start, {rejected} rejected"
    stuck = backlog and oldest is not None and oldest > JOURNAL_STUCK_SECONDS
    report.add("journal", "WARN" if stuck or rejected else "ok", detail)
    return health


def _api(where: Target, report: Report) -> dict[str, Any] | None:
    try:
        response = where.api().raw("GET", "/health")
        health: dict[str, Any] = response.json()
    except CliError as error:
        report.add("api", "FAIL", error.message)
        return None
    except ValueError:
        report.add("api", "FAIL", f"{where.api_url}/health answered {response.status_code}, not JSON")
        return None
    report.raw["api"] = health
    # 'whatsapp' failing is the WhatsApp line's to report; the api itself is fine when it reaches Redis and the gateway.
    own = [name for name in health.get("failing", []) if name != "whatsapp"]
    if own:
        report.add("api", "FAIL", f"{where.api_url} answers but cannot reach: {', '.join(own)}")
    else:
        report.add("api", "ok", f"{where.api_url} answers; reaches Redis and the gateway")
    return health


def _whatsapp(report: Report, gateway: dict[str, Any] | None, api: dict[str, Any] | None) -> None:
    if gateway is None:
        report.add("whatsapp", "?", "unknown: the gateway does not answer")
        return
    phone = gateway.get("phoneNumber")
    if gateway.get("connected"):
        report.add("whatsapp", "ok", f"connected as {plus(str(phone))}" if phone else "connected")
        return
    raw_status = str(gateway.get("status"))
    owner = (api or {}).get("gateway") or {}
    if raw_status == SessionStatus.STANDBY and owner.get("connected"):
        report.add(
            "whatsapp", "ok", f"connected through the lease holder at {owner.get('url')} (this gateway: standby)"
        )
        return
    try:
        hint = HINTS.get(SessionStatus(raw_status), "")
    except ValueError:
        hint = ""
    reason = f" ({gateway['reason']})" if gateway.get("reason") else ""
    report.add("whatsapp", "FAIL", f"not connected: {raw_status}{reason}" + (f"; {hint}" if hint else ""))


def _redis(where: Target, report: Report) -> None:
    url = where.settings.redis_url
    shown = urlsplit(url)._replace(netloc=urlsplit(url).netloc.rsplit("@", 1)[-1]).geturl()  # never a password
    client = where.redis()
    try:
        client.ping()
    except redis.RedisError as error:
        report.add("redis", "FAIL", f"{shown}: {error}")
        for name in ("lease", "queue", "worker", "failed jobs"):
            report.add(name, "?", "unknown: Redis does not answer")
        return
    report.add("redis", "ok", f"{shown} answers")
    try:
        _lease(where, client, report)
        _queue(where, client, report)
    except redis.RedisError as error:
        report.add("redis", "FAIL", f"{shown} failed mid-check: {error}")


def _lease(where: Target, client: redis.Redis, report: Report) -> None:
    key = redis_keys.gateway_lease(where.company_id)
    raw = client.get(key)
    if raw is None:
        report.add("lease", "FAIL", f"nobody holds {key}: no gateway owns the WhatsApp session")
        return
    try:
        holder = LeaseHolder.decode(raw)
    except ValueError:
        report.add("lease", "WARN", f"{key} holds something unreadable: {raw[:80]!r}")
        return
    ttl_ms = client.pttl(key)
    report.raw["lease"] = {**holder.to_wire(), "ttlMs": ttl_ms}
    report.add(
        "lease",
        "ok",
        f"{holder.process} serving {holder.url}, held {ago(time.time() - holder.since)}, "
        f"expires in {ttl_ms / 1000:.0f}s unless renewed",
    )


def _queue(where: Target, client: redis.Redis, report: Report) -> None:
    queue = inbound_queue(client, where.company_id)
    counts = {
        "queued": int(client.llen(queue.key)),
        "scheduled": int(client.zcard(queue.scheduled_job_registry.key)),
        "running": int(client.zcard(queue.started_job_registry.key)),
        "failed": int(client.zcard(queue.failed_job_registry.key)),
    }
    report.raw["queue"] = {"name": queue.name, **counts}
    report.add(
        "queue",
        "ok",
        f"{queue.name}: {counts['queued']} queued, {counts['scheduled']} scheduled, {counts['running']} running",
    )
    workers = Worker.all(connection=client, queue=queue)
    if not workers:
        report.add("worker", "FAIL", f"no worker listens on {queue.name}: nothing answers clients")
    else:
        beats = [worker.last_heartbeat for worker in workers if worker.last_heartbeat is not None]
        freshest = f", last heartbeat {ago(time.time() - max(beats).timestamp())} ago" if beats else ""
        report.add("worker", "ok", f"{len(workers)} listening{freshest}")
    failed = counts["failed"]
    report.add("failed jobs", "WARN" if failed else "ok", f"{failed}: ai-admin failed list" if failed else "none")
