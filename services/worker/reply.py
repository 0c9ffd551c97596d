"""Turning the AI's text into the WhatsApp messages the client receives."""

from __future__ import annotations

import re

from shared.wire import MAX_MESSAGE_CHARS

_THINK = re.compile(r"\[THINK\].*?\[/THINK\]", re.DOTALL | re.IGNORECASE)
_TAGS = re.compile(r"\[/?(RESPOND|THINK)\]", re.IGNORECASE)


def reply_parts(text: str) -> list[str]:
    """Strip the model's THINK/RESPOND tags and split on blank lines, as the original did."""
    cleaned = _TAGS.sub("", _THINK.sub("", text))
    parts = [part.strip() for part in re.split(r"\n\s*\n", cleaned)]
    chunks: list[str] = []
    for part in parts:
        rest = part
        while len(rest) > MAX_MESSAGE_CHARS:
            cut = rest.rfind(" ", 0, MAX_MESSAGE_CHARS)
            cut = cut if cut > 0 else MAX_MESSAGE_CHARS
            chunks.append(rest[:cut].strip())
            rest = rest[cut:].strip()
        if rest:
            chunks.append(rest)
    return chunks


def idempotency_key(batch_id: str, index: int | str) -> str:
    """Same batch and part, same key: a retried job can't message the client twice."""
    return f"{batch_id}-{index}"
