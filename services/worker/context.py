"""Per-process resources of the worker: settings, Redis, the booking backend, the sender, the receptionist.

Each worker process is forked from the worker's main process and runs its jobs itself
(``flush_worker``). Connections inherited across a fork are unsafe, so resources are created in each
process (checked by pid) before its first job and kept for every job after it: one HTTP client, one
Redis pool and one backend per process, never one per job or request. What is safe to share (the
modules, the morphology dictionaries, the lexicon, dateparser's language data) is loaded once in the
main process: ``warm_up``.
"""

from __future__ import annotations

import os
from functools import partial

from services.worker.pipeline import WorkerDeps
from services.worker.receptionist.agent import Receptionist
from services.worker.receptionist.memory import MemoryStore
from services.worker.receptionist.providers.factory import build_provider
from services.worker.sender import ApiSender
from services.worker.settings import WorkerSettings
from shared.alerts import ai_fallback_recorder
from shared.batching import BatchStore, FlushSchedule
from shared.booking.factory import build_backend
from shared.config import load_settings
from shared.conversations import ConversationStore
from shared.redis_client import sync_client
from shared.visits.own import OwnChanges

_deps: WorkerDeps | None = None
_deps_pid: int | None = None


def build_deps(settings: WorkerSettings) -> WorkerDeps:
    client = sync_client(settings.redis_url)
    backend = build_backend(settings)
    provider, embedded = build_provider(settings)
    return WorkerDeps(
        settings=settings,
        redis=client,
        batches=BatchStore(client, settings.batch_idle_seconds, settings.batch_max_messages),
        sender=ApiSender(settings.api_url, settings.api_key.get_secret_value()),
        receptionist=Receptionist(
            backend,
            provider,
            embedded,
            settings.clock_frozen_at,
            on_fallback=ai_fallback_recorder(client, settings.company_id),
            own_changes=OwnChanges(client, settings.company_id),
        ),
        memory=MemoryStore(client),
        conversations=ConversationStore(settings.conversations_db),
        reschedule=partial(_reschedule, FlushSchedule(client, settings.company_id)),
    )


def _reschedule(schedule: FlushSchedule, company_id: str, chat: str, delay_seconds: float) -> None:
    if company_id != schedule.company_id:
        raise ValueError(f"company {company_id} is not this worker's ({schedule.company_id})")
    schedule.schedule(chat, delay_seconds)


def current_deps() -> WorkerDeps:
    global _deps, _deps_pid  # noqa: PLW0603 - one set of resources per process is the point
    if _deps is None or _deps_pid != os.getpid():
        _deps = build_deps(load_settings(WorkerSettings))
        _deps_pid = os.getpid()
    return _deps
