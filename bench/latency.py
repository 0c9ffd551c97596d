"""2. Pipeline overhead: a message injected at the gateway until the first part of its reply is in the outbox.

The stack runs as shipped but for BATCH_IDLE_SECONDS=0, so the number is the pipeline's own cost and not the
batching window (the shipped 9 s of silence come on top). Embedded AI, local booking backend. Every message
goes to a chat of its own. The start is the bench's wall clock just before ``POST /simulator/inbound``; the end
is the simulator's own timestamp of the reply's first text part in its outbox (same machine, same clock), so
how often the bench looks at the outbox does not count.

Three runs, all open loop: one message at a time (4 msg/s, each answered before the next); 50 msg/s; then
rates above 50 while the target holds, or below 50 until it does, for the highest rate that meets it.
Target: p50 ≤ 25 ms and p99 ≤ 100 ms.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import redis

from bench.common import Figure, PssSampler, Section, group_pss, percentiles, rounded
from bench.redis_memory import audit, client_specific, key_table
from bench.stack import BenchStack

TEXT = "Хочу записаться на стрижку завтра"
"""One reply part from the embedded provider: the shipped 0.5 s pause between parts does not hold the worker."""
P50_TARGET_MS = 25.0
P99_TARGET_MS = 100.0
STEADY_RATE = 50.0
SPACED_RATE = 4.0
"""Messages 250 ms apart: each is answered before the next arrives (the pipeline takes well under that), so the
stack has one message at a time, and the bench never polls it while a message travels."""
QUIET_GIVE_UP_SECONDS = 20.0
"""A run stops waiting for replies when none came for this long (the rest are counted as unanswered)."""

_runs = itertools.count(10)


def _phones(count: int) -> list[str]:
    run = next(_runs)
    return [f"796{run:02d}{index:06d}" for index in range(count)]


async def _inject(gateway_url: str, phones: list[str], rate: float) -> tuple[dict[str, float], dict[str, str]]:
    """Open loop: message i is sent at start + i/rate whatever happened to the others.

    Returns phone -> when it was sent, and the simulator's message id -> phone.
    """
    sent: dict[str, float] = {}
    message_ids: dict[str, str] = {}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:

        async def send(phone: str) -> None:
            sent[phone] = time.time()
            response = await http.post(f"{gateway_url}/simulator/inbound", json={"from": phone, "message": TEXT})
            response.raise_for_status()
            message_ids[str(response.json()["messageId"])] = phone

        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks = []
        for index, phone in enumerate(phones):
            delay = start + index / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(phone)))
        await asyncio.gather(*tasks)
    return sent, message_ids


def _first_replies(gateway_url: str, phone: str | None = None) -> dict[str, float]:
    params = {"phone": phone} if phone else {}
    response = httpx.get(f"{gateway_url}/simulator/outbox", params=params, timeout=30)
    response.raise_for_status()
    first: dict[str, float] = {}
    for item in response.json()["messages"]:
        if item["kind"] == "text" and item["to"] not in first:
            first[item["to"]] = float(item["timestamp"])
    return first


def _wait_replies(gateway_url: str, phones: list[str], cap_seconds: float) -> dict[str, float]:
    wanted = set(phones)
    deadline = time.monotonic() + cap_seconds
    last_progress = time.monotonic()
    seen = 0
    while True:
        replies = {phone: at for phone, at in _first_replies(gateway_url).items() if phone in wanted}
        if len(replies) == len(wanted):
            return replies
        if len(replies) > seen:
            seen, last_progress = len(replies), time.monotonic()
        if time.monotonic() - last_progress > QUIET_GIVE_UP_SECONDS or time.monotonic() > deadline:
            return replies
        time.sleep(0.5)


def _summary(sent: dict[str, float], replies: dict[str, float], rate: float | None) -> dict[str, Any]:
    latencies = [(replies[phone] - at) * 1000 for phone, at in sent.items() if phone in replies]
    stats = rounded(percentiles(latencies)) if latencies else {}
    unanswered = len(sent) - len(latencies)
    meets = bool(stats) and not unanswered and stats["p50"] <= P50_TARGET_MS and stats["p99"] <= P99_TARGET_MS
    answered_per_second = None
    if replies and len(sent) > 1:
        span = max(replies.values()) - min(sent.values())
        answered_per_second = round(len(latencies) / span, 1) if span > 0 else None
    return {
        "rate": rate,
        "messages": len(sent),
        "unanswered": unanswered,
        "ms": stats,
        "meets_target": meets,
        "answered_per_second": answered_per_second,
    }


HOPS = (
    ("wa-gateway", "New message from", "inject → gateway logged the message (simulator, transcript, journal)"),
    ("api", "Message queued for the worker", "→ api stored it and queued the flush (forwarder, webhook, Redis)"),
    ("worker", "Processing message", "→ a worker took the batch (RQ dequeue, job start, chat lock, take)"),
)
"""Log lines (JSON logs in LOG_DIR, with their message_id) that mark where a message is; the last hop ends at
the reply's first part in the simulator's outbox."""


def hops(log_dir: Path, message_ids: dict[str, str], sent: dict[str, float], replies: dict[str, float]) -> list[Any]:
    """Median time of each hop of the path, from the services' own JSON logs (message id -> phone)."""
    seen: dict[tuple[str, str], float] = {}
    wanted = {event for _, event, _ in HOPS}
    for path in log_dir.glob("*.json.log"):
        for line in path.read_text(errors="replace").splitlines():
            if '"message_id' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            event = record.get("event")
            if event not in wanted:
                continue
            # A line about one message names it; the api's line about several lists them (message_ids).
            for message_id in [record.get("message_id"), *record.get("message_ids", [])]:
                if message_id in message_ids and (event, message_id) not in seen:
                    seen[(event, message_id)] = datetime.fromisoformat(record["timestamp"]).timestamp()
    result = []
    previous = {message_id: sent[phone] for message_id, phone in message_ids.items()}
    for _, event, meaning in [*HOPS, ("", "", "→ first reply part in the outbox (the turn, the send proxy, the send)")]:
        durations = []
        for message_id, phone in message_ids.items():
            at = replies.get(phone) if not event else seen.get((event, message_id))
            if at is not None and message_id in previous:
                durations.append((at - previous[message_id]) * 1000)
                previous[message_id] = at
            else:
                previous.pop(message_id, None)
        result.append({"hop": meaning, "p50_ms": round(statistics.median(durations), 1) if durations else None})
    return result


def at_rate(stack: BenchStack, rate: float, seconds: float) -> dict[str, Any]:
    phones = _phones(max(2, round(rate * seconds)))
    sent, message_ids = asyncio.run(_inject(stack.gateway_url, phones, rate))
    replies = _wait_replies(stack.gateway_url, phones, cap_seconds=180)
    return {**_summary(sent, replies, rate), "hops": hops(stack.root / "log", message_ids, sent, replies)}


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def measure(root: Path, redis_url: str, quick: bool, pss: dict[str, dict[str, Any]]) -> Section:
    section = Section("latency", "2. Pipeline overhead (gateway inbound → first reply part in the outbox)")
    steady_seconds = 4.0 if quick else 10.0
    sweep_seconds = 2.0 if quick else 4.0
    spaced_seconds = 3.0 if quick else 10.0
    stack = BenchStack(root / "latency", redis_url, {"BATCH_IDLE_SECONDS": "0"})
    runs: list[dict[str, Any]] = []
    try:
        stack.start("wa-gateway", "api")
        processes = stack.start_workers()
        at_rate(stack, 10, 2)  # warm-up: each process's first turns fill caches the later ones reuse
        time.sleep(1)
        for name, pids in stack.groups().items():
            pss[f"{name} idle"] = group_pss(pids) | {"worker_processes": processes}
        single = at_rate(stack, SPACED_RATE, spaced_seconds)
        with PssSampler(stack.groups) as sampler:
            steady = at_rate(stack, STEADY_RATE, steady_seconds)
        for name, sample in sampler.peak.items():
            pss[f"{name} at {STEADY_RATE:.0f} msg/s"] = sample | {"worker_processes": processes}
        runs.append(steady)
        if steady["meets_target"]:
            rates = [100.0, 200.0] if quick else [100.0, 200.0, 400.0]
        else:
            rates = [20.0, 10.0] if quick else [25.0, 10.0]
        for rate in rates:
            result = at_rate(stack, rate, sweep_seconds)
            runs.append(result)
            if result["meets_target"] != steady["meets_target"]:
                break
        client = redis.Redis.from_url(redis_url)
        try:
            keys = audit(client)  # everything the real stack wrote while it answered these chats
        finally:
            client.close()
    finally:
        stack.stop()
    lasting = {name: kind["no_ttl"] for name, kind in keys.items() if kind["no_ttl"] and client_specific(name)}
    meeting = [run["rate"] for run in [single, *runs] if run["meets_target"]]
    best = max(meeting) if meeting else None
    section.figures = [
        Figure("pipeline p50 at 50 msg/s", steady["ms"].get("p50"), "ms", P50_TARGET_MS, "<=", "≤ 25 ms"),
        Figure("pipeline p95 at 50 msg/s", steady["ms"].get("p95"), "ms", note="no target", summary=False),
        Figure("pipeline p99 at 50 msg/s", steady["ms"].get("p99"), "ms", P99_TARGET_MS, "<=", "≤ 100 ms"),
        Figure(
            "unanswered at 50 msg/s",
            steady["unanswered"],
            "messages",
            0,
            "<=",
            "0",
            note=f"of {steady['messages']}",
        ),
        Figure(
            "pipeline p50, one message at a time (4 msg/s)",
            single["ms"].get("p50"),
            "ms",
            P50_TARGET_MS,
            "<=",
            "≤ 25 ms",
        ),
        Figure(
            "pipeline p99, one message at a time (4 msg/s)",
            single["ms"].get("p99"),
            "ms",
            P99_TARGET_MS,
            "<=",
            "≤ 100 ms",
        ),
        Figure(
            "highest rate meeting p50 ≤ 25 ms and p99 ≤ 100 ms",
            best,
            "msg/s",
            note="of the rates tried: "
            + ", ".join(f"{run['rate']:g}" for run in [single, *runs])
            + ("; none met the target" if best is None else ""),
        ),
    ]
    section.figures.append(
        Figure(
            "per-client keys without a TTL after the pipeline runs (Redis, RQ's included)",
            sum(lasting.values()),
            "keys",
            0,
            "<=",
            "0",
            note=", ".join(f"{name}: {count}" for name, count in lasting.items())
            or f"none among {sum(kind['keys'] for kind in keys.values())} keys",
        )
    )
    section.details = {
        "keys": keys,
        "one_at_a_time": single,
        "runs": runs,
        "worker_processes": stack.worker_processes,
        "text": TEXT,
        "settings": {"BATCH_IDLE_SECONDS": "0"},
    }
    rows = [
        f"| {run['rate']:g} | {run['messages']} | {run['ms'].get('p50', '–')} | {run['ms'].get('p95', '–')} | "
        f"{run['ms'].get('p99', '–')} | {run['ms'].get('max', '–')} | {run['unanswered']} | "
        f"{run['answered_per_second'] or '–'} | "
        f"{'yes' if run['meets_target'] else 'no'} |"
        for run in [single, *runs]
    ]
    section.text = [
        f"Shipped settings but BATCH_IDLE_SECONDS=0; {stack.worker_processes} worker process(es); embedded AI, local"
        f" backend; text {TEXT!r} (a one-part reply). Open loop at each rate:"
        f" {spaced_seconds:.0f} s at {SPACED_RATE:g} msg/s (one message at a time), {steady_seconds:.0f} s at 50 msg/s,"
        f" {sweep_seconds:.0f} s at the others:",
        "| msg/s | messages | p50 ms | p95 ms | p99 ms | max ms | unanswered | answered/s | meets target |\n"
        "|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows),
        "answered/s: messages answered over the time from the first sent to the last reply; where it stays below the"
        " rate sent, the stack's capacity is the limit and the queue grows while the run lasts.",
        "Where the time goes (median of each hop, from the services' JSON logs, stamped as each line is written,"
        " and the outbox), one message at a time and at 50 msg/s, where the queue builds up:",
        "| hop | p50 ms, one at a time | p50 ms at 50 msg/s |\n|---|---|---|\n"
        + "\n".join(
            f"| {hop['hop']} | {_ms(hop['p50_ms'])} | {_ms(loaded['p50_ms'])} |"
            for hop, loaded in zip(single["hops"], steady["hops"], strict=True)
        ),
        "Every key in Redis after these runs (the stack's own and RQ's), by pattern:",
        key_table(keys, None),
    ]
    return section
