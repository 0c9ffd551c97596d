"""``GET /metrics``: the api in Prometheus' text format.

No API key: Prometheus scrapes without headers, the api listens on 127.0.0.1 by default, and nothing
here names a client or a message (docs/operations.md, "Metrics"). The worker's queue is read from RQ
at scrape time, so the numbers are RQ's own, whichever process changed them.
"""

from __future__ import annotations

import redis
from fastapi import APIRouter
from fastapi.responses import Response

from services.api.deps import ApiState, StateDep
from shared.logging import get_logger
from shared.metrics import CONTENT_TYPE, Snapshot, exposition

log = get_logger(__name__)
router = APIRouter()


def snapshot(state: ApiState) -> Snapshot:
    """Blocking (Redis): run it in the api's Redis pool."""
    values = Snapshot()
    queue = state.queue
    try:
        # cleanup=False: a scrape only reads; retrying abandoned jobs is the worker's maintenance's job.
        depths = (
            ("queued", queue.count),
            ("scheduled", queue.scheduled_job_registry.get_job_count(cleanup=False)),
            ("started", queue.started_job_registry.get_job_count(cleanup=False)),
        )
        failed = queue.failed_job_registry.get_job_count(cleanup=False)
    except redis.RedisError as error:
        log.warning("Metrics: the queue could not be read", error=str(error))
        values.gauge("ai_admin_redis_up", "1 when the api could read the worker's queue from Redis", 0)
        return values
    values.gauge("ai_admin_redis_up", "1 when the api could read the worker's queue from Redis", 1)
    values.labelled_gauge(
        "ai_admin_queue_depth",
        f"Flush jobs of the worker's queue {queue.name} by state (queued, scheduled, started)",
        "state",
        depths,
    )
    values.gauge(
        "ai_admin_queue_failed_jobs",
        f"Jobs in RQ's failed registry of {queue.name}: given up on after their retries (kept 7 days)",
        failed,
    )
    return values


@router.get("/metrics")
async def metrics(state: StateDep) -> Response:
    values = await state.redis_pool.run(snapshot, state)
    return Response(exposition(values), media_type=CONTENT_TYPE)
