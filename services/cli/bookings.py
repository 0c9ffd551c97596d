"""``ai-admin bookings PHONE``: a client's upcoming bookings, from the api's listing of the configured backend."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from services.cli.context import target
from services.cli.output import echo_json, plus, table
from shared.wire import BOOKINGS_PATH


def bookings(
    ctx: typer.Context,
    phone: Annotated[str, typer.Argument(metavar="PHONE", help="the client's phone, e.g. 79001234567")],
    as_json: Annotated[bool, typer.Option("--json", help="print the api's JSON")] = False,
) -> None:
    """A client's upcoming bookings.

    From the configured booking backend (local or YClients), as the receptionist sees them.
    """
    where = target(ctx)
    answer = where.api().call("GET", BOOKINGS_PATH.format(companyId=where.company_id), params={"phone": phone})
    if as_json:
        echo_json(answer.body)
        return
    found: list[dict[str, Any]] = answer.body.get("bookings", [])
    if not found:
        typer.echo(f"no upcoming bookings for {plus(phone)}")
        return
    rows = [
        [
            _when(str(b.get("datetime", ""))),
            str(b.get("service", "")),
            str(b.get("staff", "")),
            str(b.get("status", "")),
            str(b.get("id", "")),
        ]
        for b in found
    ]
    typer.echo(table(["WHEN", "SERVICE", "STAFF", "STATUS", "ID"], rows))


def _when(iso: str) -> str:
    """The salon's own wall time (the offset the backend gave), with the weekday: what the client was told."""
    try:
        return datetime.fromisoformat(iso).strftime("%a %Y-%m-%d %H:%M")
    except ValueError:
        return iso
