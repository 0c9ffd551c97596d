"""``python -m bench.bare_ingest``: the baseline of the webhook ingest benchmark.

A bare FastAPI endpoint at the webhook's path that does the least an ingest can do: read the JSON body and,
per message, a dedupe ``SET NX EX``, an ``RPUSH`` to the chat's buffer and a ``ZADD`` of the chat's due time,
all in one async Redis pipeline (one round trip per request). No validation, no phone normalisation, no
logging, no metrics, no wake-up of the worker. It runs under uvicorn exactly as the api does (``shared.process.serve``:
same loop, same HTTP parser, one process), listening on BARE_PORT, writing to REDIS_URL under ``bare:*``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from fastapi import FastAPI, Request

from shared.process import serve
from shared.redis_keys import SEEN_TTL_SECONDS
from shared.wire import WEBHOOK_PATH

IDLE_SECONDS = 9.0
"""The shipped BATCH_IDLE_SECONDS: when each chat is due."""


def create_app(redis_url: str) -> FastAPI:
    clients: dict[str, aioredis.Redis] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        clients["redis"] = aioredis.Redis.from_url(redis_url)
        yield
        await clients["redis"].aclose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"service": "bare-ingest"}

    @app.post(WEBHOOK_PATH)
    async def ingest(request: Request) -> dict[str, Any]:
        body = json.loads(await request.body())
        company = str(body.get("companyId") or "962302")
        messages = body["messages"]
        due = time.time() + IDLE_SECONDS
        async with clients["redis"].pipeline(transaction=False) as pipe:
            for message in messages:
                chat = str(message["from"])
                pipe.set(f"bare:seen:{company}:{message['messageId']}", "1", nx=True, ex=SEEN_TTL_SECONDS)
                pipe.rpush(f"bare:buffer:{company}:{chat}", json.dumps(message, ensure_ascii=False))
                pipe.zadd(f"bare:due:{company}", {chat: due})
            results = await pipe.execute()
        added = sum(1 for outcome in results[::3] if outcome)
        return {"success": True, "addedCount": added, "duplicateCount": len(messages) - added}

    return app


def main() -> None:
    port = int(os.environ["BARE_PORT"])
    app = create_app(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    serve("bare-ingest", app, "127.0.0.1", port, "BARE_PORT", graceful_seconds=10)


if __name__ == "__main__":
    main()
