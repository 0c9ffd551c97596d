"""6. Redis bytes per active chat and per remembered client, at 1,000 and 100,000 clients, and a TTL on every key.

On a redis-server of its own without persistence (memory does not depend on it), emptied before each step:

- What a client leaves: the booking dialogues of the corpus played through the worker's real turn (in this
  process, local backend). Every key left is listed by pattern with its TTLs: this is the proof that keys
  expire, and these memories are the templates of the next step.
- Per remembered client: the dialogue memories written for N clients through ``MemoryStore.save`` (the worker's
  own writer: dialog, messages, client, preferences with their TTLs); INFO used_memory before and after.
- Per active chat: N chats write one message each to the real api (shipped settings, worker stopped) in
  webhooks of 100 messages: the message in the chat's buffer, its dedupe key, the chat's last-message time and
  whatever schedules its flush. INFO used_memory before and after.

At 1,000 a breakdown by key pattern (MEMORY USAGE of every key) shows where the bytes are.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import redis

from bench.common import COMPANY, Figure, Section
from bench.stack import BenchStack
from services.worker.receptionist.memory import ChatMemory, MemoryStore
from shared.wire import WEBHOOK_PATH
from tests.support.dialogues import load_corpus, phone_for, play
from tests.support.inprocess import LocalRunner
from tests.support.redis_server import RedisServer

BATCH = 100
CONCURRENCY = 8


def pattern(key: str) -> str:
    """A key with its client- and message-specific parts replaced: one line per kind of key."""
    key = re.sub(r"flush-[0-9a-f]{20}-\d+-[0-9a-f]{6}", "flush-<chat>-<due>-<hex>", key)  # RQ flush job ids
    key = re.sub(r"3EB0[0-9A-F]{16}|[BW][0-9a-f]{20}|M[0-9a-f]{6}-\d+", "<message-id>", key)
    key = re.sub(r"(?<![0-9a-f])[0-9a-f]{16,}(?![0-9a-f])", "<hex>", key)
    return re.sub(r"\d{5,}", "<n>", key)


def audit(client: redis.Redis) -> dict[str, dict[str, Any]]:
    """Every key by pattern: how many, bytes (MEMORY USAGE), TTL range, and how many have none."""
    kinds: dict[str, dict[str, Any]] = defaultdict(lambda: {"keys": 0, "bytes": 0, "no_ttl": 0, "ttl": []})
    keys = [key.decode() for key in client.scan_iter(count=1000)]
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        with client.pipeline(transaction=False) as pipe:
            for key in chunk:
                pipe.ttl(key)
                pipe.memory_usage(key, samples=0)
            answers = pipe.execute()
        for index, key in enumerate(chunk):
            ttl, size = answers[2 * index], answers[2 * index + 1]
            kind = kinds[pattern(key)]
            kind["keys"] += 1
            kind["bytes"] += int(size or 0)
            if ttl == -1:
                kind["no_ttl"] += 1
            elif ttl >= 0:
                kind["ttl"].append(int(ttl))
    result = {}
    for name, kind in sorted(kinds.items()):
        ttls = kind.pop("ttl")
        result[name] = {**kind, "ttl_min": min(ttls) if ttls else None, "ttl_max": max(ttls) if ttls else None}
    return result


def client_specific(name: str) -> bool:
    """Whether a key pattern names a client's key (a chat, a message or a batch in it), not a company's or a
    process's."""
    if name.count("<n>") >= 2 or "<message-id>" in name or "<chat>" in name:
        return True
    return name.startswith("ai-admin:") and "<hex>" in name  # a batch's ledger; RQ's <hex> names a worker


def _count(size: int) -> str:
    return f"{size:,}".replace(",", " ")


def key_table(kinds: dict[str, dict[str, Any]], per: int | None) -> str:
    """Markdown: each key pattern with its count, bytes (per client when ``per``), TTL range and keys without."""
    head = "| key | keys | bytes (MEMORY USAGE) | " + ("bytes per client | " if per else "") + "TTL s | no TTL |"
    rows = [head, "|---|---|---|" + ("---|" if per else "") + "---|---|"]
    for name, kind in kinds.items():
        ttl = "–" if kind["ttl_min"] is None else f"{kind['ttl_min']}–{kind['ttl_max']}"
        share = f" {kind['bytes'] / per:.0f} |" if per else ""
        rows.append(f"| `{name}` | {kind['keys']} | {kind['bytes']} |{share} {ttl} | {kind['no_ttl']} |")
    return "\n".join(rows)


def used(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def templates(client: redis.Redis, redis_url: str, root: Path) -> tuple[list[ChatMemory], dict[str, Any]]:
    """Play the booking dialogues; return each client's memory as the worker would save it, and the key audit."""
    dialogues = [d for d in load_corpus() if d.expect.bookings and not d.given.bookings]
    runner = LocalRunner(client, redis_url, Path(tempfile.mkdtemp(prefix="salons-", dir=root)))
    phones = []
    for index, dialogue in enumerate(dialogues):
        phone = phone_for(index)
        play(runner, dialogue, phone)
        phones.append(phone)
    if runner.backend is not None:
        runner.backend.close()
    store = MemoryStore(client)
    memories = []
    for phone in phones:
        memory = store.load(COMPANY, phone)
        memories.append(memory.model_copy(update={"new_lines": memory.history, "history": []}))
    return memories, {"dialogues": len(dialogues), "keys": audit(client)}


def remembered(client: redis.Redis, memories: list[ChatMemory], count: int) -> int:
    before = used(client)
    for start in range(0, count, 1000):
        with client.pipeline(transaction=False) as pipe:
            for index in range(start, min(count, start + 1000)):
                MemoryStore.save(pipe, COMPANY, f"7980{index:07d}", memories[index % len(memories)])
            pipe.execute()
    return used(client) - before


async def _post_all(url: str, count: int) -> list[int]:
    run = uuid.uuid4().hex[:6]
    bodies = [
        {
            "companyId": COMPANY,
            "messages": [
                {"from": f"7981{index:07d}", "message": "Здравствуйте! Хочу записаться", "messageId": f"M{run}-{index}"}
                for index in range(start, min(count, start + BATCH))
            ],
        }
        for start in range(0, count, BATCH)
    ]
    statuses: list[int] = []
    pending = iter(bodies)
    async with httpx.AsyncClient(timeout=60) as http:

        async def post() -> None:
            for body in pending:
                statuses.append((await http.post(url, json=body)).status_code)

        await asyncio.gather(*(post() for _ in range(CONCURRENCY)))
    return statuses


def active(client: redis.Redis, stack: BenchStack, count: int) -> tuple[int, dict[int, int]]:
    before = used(client)
    statuses = asyncio.run(_post_all(f"{stack.api_url}{WEBHOOK_PATH}", count))
    counted: dict[int, int] = defaultdict(int)
    for status in statuses:
        counted[status] += 1
    return used(client) - before, dict(counted)


def measure(root: Path, redis_url: str, quick: bool, pss: dict[str, dict[str, Any]]) -> Section:
    section = Section("redis", "6. Redis bytes per client, and a TTL on every key")
    sizes = [1_000, 10_000] if quick else [1_000, 100_000]
    server = RedisServer(root / "redis-memory")
    server.start()
    client = redis.Redis.from_url(server.url)
    per_client: dict[int, float] = {}
    per_chat: dict[int, float] = {}
    breakdown: dict[str, dict[str, dict[str, Any]]] = {}
    statuses: dict[int, dict[int, int]] = {}
    stack = BenchStack(root / "redis-memory-stack", server.url)
    try:
        memories, left = templates(client, server.url, root)
        for size in sizes:
            client.flushall()
            per_client[size] = remembered(client, memories, size) / size
            if size == sizes[0]:
                breakdown["remembered client"] = audit(client)
        stack.start("api")
        for size in sizes:
            client.flushall()
            delta, statuses[size] = active(client, stack, size)
            per_chat[size] = delta / size
            if size == sizes[0]:
                breakdown["active chat"] = audit(client)
    finally:
        stack.stop()
        client.close()
        server.stop()
    no_ttl = {
        name: kind["no_ttl"]
        for group in (left["keys"], breakdown.get("remembered client", {}), breakdown.get("active chat", {}))
        for name, kind in group.items()
        if kind["no_ttl"]
    }
    per_client_no_ttl = {name: count for name, count in no_ttl.items() if client_specific(name)}
    shared_no_ttl = {name: count for name, count in no_ttl.items() if not client_specific(name)}
    not_ok = sum(count for answers in statuses.values() for status, count in answers.items() if status != 200)
    section.figures = [
        *(
            Figure(f"Redis bytes per remembered client, {_count(size)} clients", round(value), "B")
            for size, value in per_client.items()
        ),
        *(
            Figure(
                f"Redis bytes per active chat, {_count(size)} chats",
                round(value),
                "B",
                note="api answers other than 200: " + str(not_ok),
            )
            for size, value in per_chat.items()
        ),
        Figure(
            "per-client keys without a TTL",
            sum(per_client_no_ttl.values()),
            "keys",
            0,
            "<=",
            "0",
            note=", ".join(f"{name}: {count}" for name, count in per_client_no_ttl.items()) or "none",
        ),
        Figure(
            "per-company keys without a TTL",
            len(shared_no_ttl),
            "keys",
            note="no target; one per company or queue, not per client: " + (", ".join(shared_no_ttl) or "none"),
        ),
    ]
    section.details = {
        "per_remembered_client_bytes": per_client,
        "per_active_chat_bytes": per_chat,
        "api_statuses": statuses,
        "dialogue_keys": left,
        "breakdown_at_first_size": breakdown,
        "keys_without_ttl": no_ttl,
    }

    first = sizes[0]
    section.text = [
        f"What the {left['dialogues']} booking dialogues of the corpus left in Redis (the worker's real turns):",
        key_table(left["keys"], None),
        f"{first} remembered clients (their dialogue memories written with MemoryStore.save):",
        key_table(breakdown.get("remembered client", {}), first),
        f"{first} active chats (one message each, through the api, worker stopped: the flush is scheduled):",
        key_table(breakdown.get("active chat", {}), first),
        "The figures are INFO used_memory deltas divided by the clients; MEMORY USAGE counts a key's own"
        " allocations, not Redis' per-key dictionary and expiry entries, so the tables' sums are below them. A key"
        " counts as per client when its name holds a chat, a message id or a batch id; the others are one per"
        " company or queue (a sorted set of due chats, RQ's queue structures) and hold an entry per active chat"
        " only while it is active.",
    ]
    return section
