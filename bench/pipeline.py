"""``python -m bench.pipeline``: throughput, latency and memory of the whole pipeline.

Starts its own redis-server and the three services (simulator transport, embedded AI), then:
1. webhook throughput: batched POSTs of 10 messages straight to the api, several clients at once;
2. end-to-end latency: a message injected into the simulator until its reply is in the outbox,
   with BATCH_IDLE_SECONDS=0 so the number is the pipeline's own cost, not the batching window;
3. resident memory (VmRSS) of each service after the run.
Writes bench/reports/pipeline.md and pipeline.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from shared.wire import WEBHOOK_PATH
from tests.support.redis_server import RedisServer
from tests.support.services import Stack, descendants
from tests.support.waiting import wait_for

REPORTS = Path(__file__).parent / "reports"
WEBHOOK_REQUESTS = 400
WEBHOOK_CONCURRENCY = 16
MESSAGES_PER_REQUEST = 10
LATENCY_SAMPLES = 60


async def webhook_throughput(stack: Stack) -> dict[str, Any]:
    url = f"{stack.api_url}{WEBHOOK_PATH}"
    latencies: list[float] = []
    counter = iter(range(WEBHOOK_REQUESTS))

    async def client(http: httpx.AsyncClient) -> None:
        for request_number in counter:
            messages = [
                {
                    "from": f"7955{request_number:04d}{index:03d}",
                    "message": "Здравствуйте",
                    "messageId": f"B{request_number}-{index}",
                }
                for index in range(MESSAGES_PER_REQUEST)
            ]
            started = time.perf_counter()
            response = await http.post(url, json={"companyId": "962302", "messages": messages})
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.gather(*(client(http) for _ in range(WEBHOOK_CONCURRENCY)))
    elapsed = time.perf_counter() - started
    return {
        "requests": WEBHOOK_REQUESTS,
        "messages_per_request": MESSAGES_PER_REQUEST,
        "concurrency": WEBHOOK_CONCURRENCY,
        "seconds": round(elapsed, 3),
        "requests_per_second": round(WEBHOOK_REQUESTS / elapsed, 1),
        "messages_per_second": round(WEBHOOK_REQUESTS * MESSAGES_PER_REQUEST / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(statistics.quantiles(latencies, n=20)[18] * 1000, 2),
    }


def end_to_end_latency(stack: Stack) -> dict[str, Any]:
    samples: list[float] = []
    for index in range(LATENCY_SAMPLES):
        phone = f"7966{index:07d}"
        started = time.perf_counter()
        stack.client_writes(phone, f"Замер {index}")
        wait_for(partial(stack.outbox, phone), 60, f"reply {index}", interval=0.01)
        samples.append(time.perf_counter() - started)
    return {
        "samples": LATENCY_SAMPLES,
        "p50_ms": round(statistics.median(samples) * 1000, 1),
        "p95_ms": round(statistics.quantiles(samples, n=20)[18] * 1000, 1),
        "max_ms": round(max(samples) * 1000, 1),
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def memory(stack: Stack) -> dict[str, float]:
    result = {}
    for name, service in stack.services.items():
        assert service.process is not None
        pids = [service.process.pid, *descendants(service.process.pid)]
        result[name] = round(sum(rss_mb(pid) for pid in pids if Path(f"/proc/{pid}").exists()), 1)
    return result


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        server = RedisServer(root / "redis", appendonly=True)
        server.start()
        stack = Stack(root / "stack", server.url, {"BATCH_IDLE_SECONDS": "0"})
        try:
            stack.start()
            latency = end_to_end_latency(stack)
            throughput = asyncio.run(webhook_throughput(stack))
            rss = memory(stack)
        finally:
            stack.stop()
            server.stop()
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}",
        "redis": "appendonly yes, appendfsync always (as make run configures a local one)",
        "end_to_end_latency": latency,
        "webhook_throughput": throughput,
        "rss_mb": rss,
    }
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "pipeline.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (REPORTS / "pipeline.md").write_text(render(report))
    print(render(report))


def render(report: dict[str, Any]) -> str:
    latency, throughput, rss = report["end_to_end_latency"], report["webhook_throughput"], report["rss_mb"]
    return f"""# Pipeline benchmark

{report["date"]} · {report["machine"]} · Redis {report["redis"]}

## End-to-end latency (simulator inbound → reply in outbox, BATCH_IDLE_SECONDS=0)

{latency["samples"]} messages, one at a time:
p50 {latency["p50_ms"]} ms · p95 {latency["p95_ms"]} ms · max {latency["max_ms"]} ms.
The production default waits 9 s of silence before answering; that window is added on top.

## Webhook throughput (api, batched POSTs)

{throughput["requests"]} requests × {throughput["messages_per_request"]} messages,
{throughput["concurrency"]} concurrent clients:
{throughput["requests_per_second"]} requests/s = {throughput["messages_per_second"]} messages/s ·
request p50 {throughput["p50_ms"]} ms · p95 {throughput["p95_ms"]} ms.

## Resident memory after the run (process and children)

| service | RSS MB |
|---|---|
""" + "".join(f"| {name} | {value} |\n" for name, value in rss.items())


if __name__ == "__main__":
    main()
