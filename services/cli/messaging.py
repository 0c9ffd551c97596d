"""``ai-admin send`` (as the salon, through the api's send proxy) and ``ai-admin chat`` (as a client, simulated)."""

from __future__ import annotations

from typing import Annotated

import typer

from services.cli.context import target
from services.cli.output import plus
from services.wa_gateway.chat import converse
from shared.wire import session_send_path


def send(
    ctx: typer.Context,
    phone: Annotated[
        str, typer.Argument(metavar="PHONE", help="the client's phone, e.g. 79001234567 or '+7 900 123-45-67'")
    ],
    text: Annotated[str, typer.Argument(metavar="TEXT", help="the message; quote it")],
) -> None:
    """Send TEXT to PHONE on WhatsApp, as a person at the salon.

    Goes through the api's send proxy, the worker's own route; the transcript records it as a person's
    message, not the receptionist's.
    """
    where = target(ctx)
    if not text.strip():
        raise typer.BadParameter("the message is empty", param_hint="TEXT")
    body = {"phone": phone, "message": text, "author": "person"}
    answer = where.api().call("POST", session_send_path(where.company_id), json=body)
    sent_to = str(answer.body.get("phone") or phone)
    duplicate = " (a duplicate: WhatsApp already had it)" if answer.body.get("duplicate") else ""
    typer.echo(f"sent to {plus(sent_to)}, message id {answer.body.get('messageId')}{duplicate}")


def chat(
    ctx: typer.Context,
    phone: Annotated[str, typer.Option(help="the client's phone (digits) you pretend to be")] = "79000000001",
    name: Annotated[str | None, typer.Option(help="the client's WhatsApp profile name")] = None,
) -> None:
    """Talk to the stack as a WhatsApp client (simulator).

    Needs the gateway's simulator transport (WA_TRANSPORT=simulator, the default). Each line you type is
    a message from PHONE; the salon's replies are printed as they arrive. Ctrl-D quits.
    """
    where = target(ctx)
    converse(where.gateway_url, where.api_key, phone, name, where.settings.batch_idle_seconds)
