"""Per-process resources of the worker: settings, Redis, the batch store, the sender, the AI.

RQ's default Worker forks a work horse per job. Connections inherited across a fork are unsafe,
so resources are created on first use in each process (checked by pid): one HTTP client and one
Redis pool per process, never one per request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import redis
from rq import Queue

from services.worker.ai.base import AIProvider
from services.worker.ai.embedded import EmbeddedProvider
from services.worker.sender import ApiSender
from services.worker.settings import WorkerSettings
from shared.batching import BatchStore
from shared.config import load_settings
from shared.queueing import inbound_queue
from shared.redis_client import sync_client


@dataclass
class WorkerContext:
    settings: WorkerSettings
    redis: redis.Redis
    batches: BatchStore
    queue: Queue
    sender: ApiSender
    ai: AIProvider


def build_provider(settings: WorkerSettings) -> AIProvider:
    if settings.ai_provider == "embedded":
        return EmbeddedProvider()
    raise AssertionError(f"unknown AI_PROVIDER {settings.ai_provider}")  # settings validation forbids it


_context: WorkerContext | None = None
_context_pid: int | None = None


def current_context() -> WorkerContext:
    global _context, _context_pid  # noqa: PLW0603 - one context per process is the point
    if _context is None or _context_pid != os.getpid():
        settings = load_settings(WorkerSettings)
        client = sync_client(settings.redis_url)
        _context = WorkerContext(
            settings=settings,
            redis=client,
            batches=BatchStore(client, settings.batch_idle_seconds, settings.batch_max_messages),
            queue=inbound_queue(client, settings.company_id),
            sender=ApiSender(settings.api_url, settings.api_key.get_secret_value()),
            ai=build_provider(settings),
        )
        _context_pid = os.getpid()
    return _context
