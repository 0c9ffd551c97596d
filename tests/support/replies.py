"""How many messages a chat should have received, read from the worker's own log, not from the AI's words.

The worker logs "Batch answered" with the number of reply parts and the reaction of each batch it
answered. A chat answered exactly once has, in the simulator's outbox, exactly those messages, none twice.
"""

from __future__ import annotations

import json
from typing import Any

from tests.support.services import Stack


def answered_batches(stack: Stack, phone: str) -> dict[str, dict[str, Any]]:
    """batch_id -> its "Batch answered" line, for one chat (a retried batch counts once)."""
    found: dict[str, dict[str, Any]] = {}
    for line in stack.log_lines("worker"):
        if '"Batch answered"' not in line:
            continue
        entry = json.loads(line)
        if entry.get("chat") == phone:
            found.setdefault(str(entry["batch_id"]), entry)
    return found


def expected_messages(stack: Stack, phone: str) -> int:
    return sum(
        int(entry["parts"]) + (1 if entry.get("reaction") else 0) for entry in answered_batches(stack, phone).values()
    )


def answered_once(stack: Stack, phone: str) -> bool:
    """True once every answered batch of the chat is in the outbox; fails if anything went out twice."""
    outbox = stack.outbox(phone)
    texts = [item.get("text") or f"{item.get('emoji')}" for item in outbox]
    assert len(texts) == len(set(texts)), f"{phone} got a message twice: {texts}"
    batches = answered_batches(stack, phone)
    if not batches:
        return False
    expected = expected_messages(stack, phone)
    assert len(outbox) <= expected, f"{phone} got {len(outbox)} messages, the worker answered with {expected}: {texts}"
    return len(outbox) == expected
