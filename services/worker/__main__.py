"""``python -m services.worker``: an RQ worker for this company's queue, with the scheduler.

A custom entry point instead of ``rq worker`` so the job modules are imported once before RQ
forks a work horse per job, and so maintenance (which re-queues jobs abandoned by a killed
worker) runs every WORKER_MAINTENANCE_INTERVAL seconds instead of RQ's default ten minutes.
"""

from __future__ import annotations

import sys

from rq import Worker
from rq.serializers import JSONSerializer

import services.worker.tasks  # noqa: F401 - preloaded before the fork on purpose
from services.worker.receptionist.understanding.warmup import warm_up
from services.worker.settings import WorkerSettings
from shared.booking.factory import build_backend
from shared.errors import ConfigurationError
from shared.logging import get_logger
from shared.process import prepare_process
from shared.queueing import inbound_queue
from shared.redis_client import sync_client

JOB_MONITORING_INTERVAL_SECONDS = 10
"""Heartbeat of a running job; a killed worker's job is seen as abandoned soon after it stops."""


def main() -> None:
    settings = prepare_process("worker", WorkerSettings)
    log = get_logger("services.worker")
    warm_up()
    try:
        build_backend(settings).close()  # a broken catalog stops the worker here, with one line
    except ConfigurationError as error:
        sys.stderr.write(f"worker: configuration error: {error}\n")
        raise SystemExit(2) from None
    connection = sync_client(settings.redis_url)
    queue = inbound_queue(connection, settings.company_id)
    worker = Worker(
        [queue],
        connection=connection,
        serializer=JSONSerializer,
        maintenance_interval=settings.worker_maintenance_interval_seconds,
        # RQ runs maintenance only between blocking dequeues, which last worker_ttl - 15 s
        # (405 s by default): shorten them, or an abandoned job waits up to seven minutes.
        worker_ttl=settings.worker_maintenance_interval_seconds + 15,
        job_monitoring_interval=JOB_MONITORING_INTERVAL_SECONDS,
    )
    log.info(
        "worker started",
        company_id=settings.company_id,
        queue=queue.name,
        ai_provider=settings.ai_provider,
        booking_backend=settings.booking_backend,
    )
    worker.work(with_scheduler=True, logging_level=settings.log_level)


if __name__ == "__main__":
    main()
