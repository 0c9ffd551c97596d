"""``python -m services.worker``: WORKER_PROCESSES RQ workers for this company's queue, forked from this process.

A custom entry point instead of ``rq worker`` so the modules and the receptionist's data are loaded
once, here, and shared by every worker process forked from it (``pool.WorkerPool``); each process runs
its jobs itself and keeps its resources (``flush_worker.FlushWorker``), and a job abandoned by a killed
process is retried within WORKER_JOB_MONITORING_INTERVAL + WORKER_HEARTBEAT_GRACE_SECONDS +
WORKER_MAINTENANCE_INTERVAL seconds (100 s by default) instead of RQ's default ten minutes and more.
"""

from __future__ import annotations

import shared.no_rich  # noqa: F401 - first, before anything imports structlog

# isort: split

from functools import partial

import services.worker.tasks  # noqa: F401 - imported before the fork on purpose, as everything below
from services.worker.dispatcher import FlushDispatcher
from services.worker.flush_worker import free_a_dead_schedulers_lock, run_worker
from services.worker.metrics import serve_metrics
from services.worker.pool import WorkerPool
from services.worker.receptionist.providers.factory import import_provider
from services.worker.receptionist.understanding.warmup import warm_up
from services.worker.settings import WorkerSettings
from shared.booking.factory import build_backend
from shared.logging import get_logger
from shared.process import exit_on_configuration_error, parse_command_line, prepare_process
from shared.queueing import inbound_queue, notices_queue, paced_job_class
from shared.redis_client import sync_client
from shared.tls import preload_http_client

SUMMARY = """\
worker: an RQ worker for the company's queues. Once a chat has been quiet for BATCH_IDLE_SECONDS it
takes the chat's messages, the receptionist answers them against the booking backend, and the
replies go to WhatsApp through the api's send proxy. It also sends the reminders and notices the
scheduler queues (company-<COMPANY_ID>-notices)."""

VARIABLES = (
    ("REDIS_URL", "the Redis holding the queue and the chats' buffers"),
    ("API_PORT", "the api whose send proxy carries the replies (API_HOST: the address)"),
    ("COMPANY_ID", "the company served; its queue is company-<COMPANY_ID>-messages"),
    ("AI_PROVIDER", "embedded (rules, no network), openai, deepseek or gemini"),
    ("BOOKING_BACKEND", "local (an embedded salon) or yclients"),
    ("BATCH_IDLE_SECONDS", "a chat's silence before it is answered"),
)


def main() -> None:
    parse_command_line("services.worker", SUMMARY, WorkerSettings, VARIABLES)
    settings = prepare_process("worker", WorkerSettings)
    log = get_logger("services.worker")
    serve_metrics(settings.worker_metrics_host, settings.worker_metrics_port)  # wipes the directory: first
    warm_up()
    import_provider(settings)
    preload_http_client()  # the TLS context and httpx's transport, loaded once here for every process
    with exit_on_configuration_error("worker"):
        build_backend(settings).close()  # a broken catalog stops the worker here, with one line
    connection = sync_client(settings.redis_url)
    job_class = paced_job_class(settings.job_retry_intervals_seconds)
    queue = inbound_queue(connection, settings.company_id, job_class=job_class)
    notices = notices_queue(connection, settings.company_id, job_class=job_class)
    for served in (queue, notices):
        dead_scheduler = free_a_dead_schedulers_lock(connection, served)
        if dead_scheduler is not None:
            log.warning(
                "Took over the scheduler lock of a scheduler that died with its worker",
                scheduler=dead_scheduler,
                queue=served.name,
            )
    log.info(
        "worker started",
        company_id=settings.company_id,
        queue=queue.name,
        notices_queue=notices.name,
        ai_provider=settings.ai_provider,
        booking_backend=settings.booking_backend,
        processes=settings.worker_processes,
    )
    # Forked before the dispatcher's thread starts (only the metrics port's runs yet): fewer locks to inherit held.
    pool = WorkerPool(settings.worker_processes, partial(run_worker, settings))
    pool.start()
    # Its own connection: the dispatcher blocks on the wakeup list while the worker blocks on the queue.
    dispatching = sync_client(settings.redis_url)
    dispatcher = FlushDispatcher(
        dispatching,
        inbound_queue(dispatching, settings.company_id, job_class=job_class),
        settings.company_id,
        settings.job_timeout_seconds,
    )
    dispatcher.start()
    try:
        pool.supervise()
    finally:
        dispatcher.stop()


if __name__ == "__main__":
    main()
