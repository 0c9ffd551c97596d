"""``ai-admin conversations [PHONE]``, ``takeover``/``release``/``forget PHONE``: the chats, and what to do with one.

All through the api (``/api/conversations``), which owns the transcripts; nothing here opens the store itself.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer

from services.cli.context import target
from services.cli.errors import CliError
from services.cli.output import echo_json, local_time, local_time_ago, one_line, plus, table
from shared.wire import CONVERSATION_PATH, CONVERSATIONS_PATH, RELEASE_PATH, TAKEOVER_PATH

PREVIEW_CHARS = 60

Phone = Annotated[str, typer.Argument(metavar="PHONE", help="the client's phone, e.g. 79001234567")]


def _path(template: str, phone: str) -> str:
    # A phone typed as '+7 900 123-45-67' must stay one path segment; the api normalises it.
    return template.format(phone=quote(phone.strip(), safe=""))


def conversations(
    ctx: typer.Context,
    phone: Annotated[
        str | None, typer.Argument(metavar="[PHONE]", help="show this chat's transcript instead of the list")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=2000, help="how many chats, or how many of the chat's messages")
    ] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="print the api's JSON")] = False,
) -> None:
    """Recent chats, or one chat's transcript.

    The list: newest first, who wrote last and what, whether it is answered, whether the AI is paused.
    With PHONE, that chat's transcript: every message in and out, who wrote it, and under each bot reply
    the commands of the turn that produced it.
    """
    api = target(ctx).api()
    if phone is None:
        answer = api.call("GET", CONVERSATIONS_PATH, params={"limit": min(limit, 500)})
        if as_json:
            echo_json(answer.body)
            return
        chats: list[dict[str, Any]] = answer.body.get("conversations", [])
        if not chats:
            typer.echo("no conversations yet")
            return
        typer.echo(table(["PHONE", "NAME", "LAST", "WHO", "STATE", "MESSAGE"], [_chat_row(chat) for chat in chats]))
        return
    answer = api.call("GET", _path(CONVERSATION_PATH, phone), params={"limit": limit}, accept=frozenset({404}))
    if answer.status == 404:
        raise CliError(f"{answer.error} (ai-admin conversations lists the chats)")
    if as_json:
        echo_json(answer.body)
        return
    summary: dict[str, Any] = answer.body.get("summary", {})
    typer.echo(f"{plus(str(answer.body.get('phone', phone)))}  {summary.get('name') or ''}".rstrip())
    typer.echo(f"  {_state(summary)}")
    for message in answer.body.get("messages", []):
        typer.echo(_transcript_line(message))


def takeover(
    ctx: typer.Context,
    phone: Phone,
    minutes: Annotated[
        int | None,
        typer.Option(min=1, max=7 * 24 * 60, help="how long the AI stays quiet [default: HUMAN_TAKEOVER_MINUTES]"),
    ] = None,
) -> None:
    """Pause the AI in one chat while a person answers it.

    Answer with ai-admin send PHONE TEXT; the AI resumes by itself after --minutes, or at ai-admin release.
    """
    body = {} if minutes is None else {"minutes": minutes}
    answer = target(ctx).api().call("POST", _path(TAKEOVER_PATH, phone), json=body)
    until = answer.body.get("pausedUntil")
    typer.echo(
        f"the AI is paused in {plus(str(answer.body.get('phone', phone)))} until {local_time(until)}; "
        "ai-admin release gives the chat back sooner"
    )


def release(ctx: typer.Context, phone: Phone) -> None:
    """Give a chat back to the AI now.

    The AI answers the client's next message.
    """
    answer = target(ctx).api().call("POST", _path(RELEASE_PATH, phone))
    typer.echo(f"the AI answers {plus(str(answer.body.get('phone', phone)))} again")


def forget(
    ctx: typer.Context,
    phone: Phone,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Delete everything stored about one client: transcript, turns, the receptionist's memory.

    For a client's request to be forgotten (docs/runbook.md says what it cannot reach: bookings at
    YClients, logs, journal rows not yet 7 days old).
    """
    if not yes:
        typer.confirm(f"Delete every message and memory of {phone}?", abort=True)
    answer = target(ctx).api().call("DELETE", _path(CONVERSATION_PATH, phone))
    typer.echo(
        f"forgot {plus(str(answer.body.get('phone', phone)))}: {answer.body.get('messagesDeleted', 0)} messages, "
        f"{answer.body.get('memoryKeysDeleted', 0)} memory keys"
    )


def _state(summary: dict[str, Any], short: bool = False) -> str:
    """What needs a person first: an unanswered client, messages held while the AI was paused, the pause itself."""
    parts = []
    if summary.get("unanswered"):
        parts.append("UNANSWERED")
    if summary.get("waiting"):
        parts.append(f"{summary['waiting']} held" if short else f"{summary['waiting']} held for a person")
    if summary.get("aiPaused"):
        until = local_time(summary.get("pausedUntil"))
        by = f" by {summary['pausedBy']}" if summary.get("pausedBy") and not short else ""
        parts.append(f"paused till {until}" if short else f"AI paused until {until}{by}")
    if not parts:
        return "ok" if short else "answered; the AI is on"
    return ", ".join(parts)


def _chat_row(chat: dict[str, Any]) -> list[str]:
    return [
        plus(str(chat.get("phone", ""))),
        one_line(chat.get("name"), 20) or "-",
        local_time_ago(chat.get("lastAt")),
        str(chat.get("lastAuthor") or "-"),
        _state(chat, short=True),
        one_line(chat.get("lastMessage"), PREVIEW_CHARS),
    ]


def _transcript_line(message: dict[str, Any]) -> str:
    arrow = "<" if message.get("direction") == "in" else ">"
    author = str(message.get("author", "?"))
    flags = " [held: arrived while the AI was paused]" if message.get("held") else ""
    kind = "" if message.get("kind") in (None, "text") else f"[{message.get('kind')}] "
    indent = " " * 23
    text = str(message.get("text", "")).replace("\n", "\n" + indent)
    lines = [f"{local_time(message.get('at')):>11} {arrow} {author:<7}  {kind}{text}{flags}"]
    turn = message.get("turn")
    if isinstance(turn, dict):
        for command in turn.get("commands", []):
            lines.append(f"{indent}  = {_command(command)}")
    return "\n".join(lines)


def _command(command: dict[str, Any]) -> str:
    """``SEARCH_SLOTS(service=маникюр, date=2026-11-27) -> found``: what the receptionist ran and how it ended."""
    params = command.get("params") or {}
    shown = ", ".join(f"{key}={one_line(str(value), 40)}" for key, value in params.items())
    outcome = command.get("outcome")
    return f"{command.get('name', '?')}({shown})" + (f" -> {outcome}" if outcome else "")
