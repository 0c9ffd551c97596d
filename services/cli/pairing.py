"""``ai-admin pair`` (a QR in the terminal, or a code) and ``ai-admin reconnect``: the gateway's operator actions."""

from __future__ import annotations

import sys
import time
from typing import Annotated, Any

import typer

from services.cli.context import Service, target
from services.cli.errors import CliError
from services.cli.output import plus
from shared.wire import GATEWAY_HEALTH_PATH, GATEWAY_RECONNECT_PATH, SessionStatus

POLL_SECONDS = 2.0
"""How often the QR and the session's status are looked at: WhatsApp rotates the QR every 20 s or so."""

RESTARTABLE = frozenset({SessionStatus.QR_EXPIRED, SessionStatus.LOGGED_OUT, SessionStatus.STOPPED})
"""Statuses a pairing may start from by reconnecting first; a replaced or banned session needs a person's decision."""

CLEAR_SCREEN = "\x1b[2J\x1b[H"

LINK_STEPS = "On the salon's phone: WhatsApp > Settings > Linked devices > Link a device"


def pair(
    ctx: typer.Context,
    code: Annotated[
        str | None,
        typer.Option("--code", metavar="PHONE", help="pair by code for this phone number instead of a QR scan"),
    ] = None,
    timeout: Annotated[float, typer.Option(help="give up after this many seconds without a connection")] = 300,
    once: Annotated[bool, typer.Option("--once", help="show the QR (or the code) once and do not wait")] = False,
) -> None:
    """Pair the salon's phone: a QR here, or --code.

    Shows the gateway's QR in this terminal, refreshed until WhatsApp connects. With --code PHONE, asks
    WhatsApp for a pairing code instead (neonize transport only) and prints it.
    Exits 0 once connected, 1 when the session cannot pair or does not connect within --timeout.
    """
    gateway = target(ctx).gateway()
    health = _health(gateway)
    if health.get("connected"):
        typer.echo(f"WhatsApp is already connected{_as(health)}; nothing to pair.")
        return
    _ready_to_pair(gateway, health)
    if code is not None:
        answer = gateway.call("POST", "/pair", json={"phone": code})
        shown = str(answer.body.get("code", ""))
        typer.echo(f"Pairing code for {plus(str(answer.body.get('phone', code)))}:  {shown}")
        typer.echo(f"{LINK_STEPS} > Link with phone number instead, then type the code.")
        if once:
            return
        _wait_connected(gateway, timeout, show_qr=False)
        return
    if once:
        qr = _qr(gateway)
        if qr is None:
            raise CliError(f"no QR to show yet (status: {_health(gateway).get('status')}); try again in a few seconds")
        typer.echo(qr)
        typer.echo(f"{LINK_STEPS}, and scan this code.")
        return
    _wait_connected(gateway, timeout, show_qr=True)


def reconnect(ctx: typer.Context) -> None:
    """Restart the WhatsApp session (after a 440 or a stop).

    Asks the gateway to drop what is left of the session and connect again.
    The gateway never does this by itself after a replaced session: two clients would take turns evicting each other.
    """
    answer = target(ctx).gateway().call("POST", GATEWAY_RECONNECT_PATH)
    typer.echo(f"reconnect requested; the session is now: {answer.body.get('status')}. Follow it with: ai-admin status")


def _health(gateway: Service) -> dict[str, Any]:
    return gateway.call("GET", GATEWAY_HEALTH_PATH).body


def _as(health: dict[str, Any]) -> str:
    phone = health.get("phoneNumber")
    return f" as {plus(str(phone))}" if phone else ""


def _ready_to_pair(gateway: Service, health: dict[str, Any]) -> None:
    status = str(health.get("status"))
    if status == SessionStatus.STANDBY:
        raise CliError(
            "this gateway is on standby: another process holds the lease and owns the session (ai-admin status)"
        )
    if status in (SessionStatus.REPLACED, SessionStatus.BANNED, SessionStatus.OUTDATED):
        raise CliError(
            f"the session is {status}; pairing again would not help. "
            "See docs/operations.md; after a 440, stop the other client, then ai-admin reconnect"
        )
    if status in RESTARTABLE:
        typer.echo(f"The session is {status}; starting a new pairing (POST {GATEWAY_RECONNECT_PATH}).")
        gateway.call("POST", GATEWAY_RECONNECT_PATH)


def _qr(gateway: Service) -> str | None:
    answer = gateway.call("GET", "/qr.txt", accept=frozenset({404}))
    if answer.status == 404:
        return None
    return answer.text or None


def _wait_connected(gateway: Service, timeout: float, show_qr: bool) -> None:
    deadline = time.monotonic() + timeout
    shown_qr: str | None = None
    shown_status: str | None = None
    while True:
        health = _health(gateway)
        status = str(health.get("status"))
        if health.get("connected"):
            typer.echo(f"Connected{_as(health)}.")
            return
        if status in (SessionStatus.REPLACED, SessionStatus.BANNED, SessionStatus.OUTDATED, SessionStatus.LOGGED_OUT):
            raise CliError(f"pairing ended: the session is {status}{_reason(health)}")
        qr = _qr(gateway) if show_qr else None
        if qr is not None and qr != shown_qr:
            if sys.stdout.isatty():
                typer.echo(CLEAR_SCREEN, nl=False)  # the new QR in place of the old one, not below it
            typer.echo(qr)
            typer.echo(f"{LINK_STEPS}, and scan this code. It refreshes here by itself; Ctrl-C stops.")
            shown_qr = qr
        elif status != shown_status and qr is None:
            typer.echo(f"waiting for WhatsApp: {status}{_reason(health)}")
        shown_status = status
        if status == SessionStatus.QR_EXPIRED:
            raise CliError("the QR expired before it was scanned; run ai-admin pair again")
        if time.monotonic() >= deadline:
            raise CliError(f"not connected after {timeout:g} s (status: {status})")
        time.sleep(POLL_SECONDS)


def _reason(health: dict[str, Any]) -> str:
    return f" ({health['reason']})" if health.get("reason") else ""
