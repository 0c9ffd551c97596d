"""Plain text for a person at 3 a.m.: aligned columns, local times with their age, and ``--json`` for scripts.

No colours in the data itself: click strips the few styles used here when the output is not a terminal.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import typer

ELLIPSIS = "…"


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the last column is never padded, so long text just runs on.

    Widths count what is seen: a styled cell's ANSI codes take no room on the screen.
    """
    cells = [list(headers), *[list(row) for row in rows]]
    widths = [max(_width(row[index]) for row in cells) for index in range(len(headers))]
    lines = []
    for row in cells:
        padded = [cell + " " * (widths[index] - _width(cell)) for index, cell in enumerate(row[:-1])]
        lines.append("  ".join([*padded, row[-1]]).rstrip())
    return "\n".join(lines)


ANSI_STYLE = re.compile(r"\x1b\[[0-9;]*m")


def _width(cell: str) -> int:
    return len(ANSI_STYLE.sub("", cell))


def one_line(text: str | None, limit: int) -> str:
    """A message squeezed onto one line of at most ``limit`` characters."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + ELLIPSIS


def ago(seconds: float) -> str:
    """``45s``, ``12m``, ``3h05m``, ``2d04h``: how long, at a glance."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def local_time(unix_ms: int | None, now: float | None = None) -> str:
    """Local wall time: ``14:05`` today, ``05-03 14:05`` this year, else the full date."""
    if unix_ms is None:
        return "-"
    moment = datetime.fromtimestamp(unix_ms / 1000).astimezone()
    today = datetime.fromtimestamp(time.time() if now is None else now).astimezone()
    if moment.date() == today.date():
        return moment.strftime("%H:%M")
    if moment.year == today.year:
        return moment.strftime("%m-%d %H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")


def local_time_ago(unix_ms: int | None) -> str:
    if unix_ms is None:
        return "-"
    return f"{local_time(unix_ms)} ({ago(time.time() - unix_ms / 1000)} ago)"


def plus(phone: str) -> str:
    """A client's number as a person reads it; group ids and anything not all digits stay as they are."""
    return f"+{phone}" if phone.isdigit() else phone
