"""``python -m services.worker``: an RQ worker for this company's queue, with the scheduler.

A custom entry point instead of ``rq worker`` so the job modules are imported once before RQ
forks a work horse per job, and so a job abandoned by a killed worker is retried within
WORKER_JOB_MONITORING_INTERVAL + WORKER_HEARTBEAT_GRACE_SECONDS + WORKER_MAINTENANCE_INTERVAL
seconds (100 s by default) instead of RQ's default ten minutes and more.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

import redis
from rq import Queue, Worker
from rq.exceptions import SchedulerNotFound
from rq.job import Job
from rq.scheduler import RQScheduler
from rq.scripts import release_lock
from rq.serializers import JSONSerializer

import services.worker.tasks  # noqa: F401 - preloaded before the fork on purpose
from services.worker.metrics import serve_metrics
from services.worker.receptionist.understanding.warmup import warm_up
from services.worker.settings import WorkerSettings
from shared.booking.factory import build_backend
from shared.conversations import ConversationStore
from shared.logging import get_logger
from shared.process import exit_on_configuration_error, parse_command_line, prepare_process
from shared.queueing import inbound_queue, notices_queue, paced_job_class
from shared.redis_client import sync_client


class FlushWorker(Worker):
    """RQ's worker with the grace after a missed heartbeat as a setting instead of a fixed 60 s.

    A running job's heartbeat is renewed every ``job_monitoring_interval`` seconds; maintenance retries
    the job once its last heartbeat is older than that plus the grace, so the grace bounds how long a
    job killed with its worker waits before it runs again.
    """

    def __init__(
        self,
        *args: Any,
        heartbeat_grace_seconds: int = 60,
        transcripts: TranscriptRetention | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.heartbeat_grace_seconds = heartbeat_grace_seconds
        self.transcripts = transcripts

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]
        if self.transcripts is not None:
            self.transcripts.purge_when_due()

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        interval = int(self.job_monitoring_interval)
        if job.timeout and job.timeout > 0:
            interval = int(min(job.timeout - working_time, interval))
        return interval + self.heartbeat_grace_seconds


class TranscriptRetention:
    """Deletes transcripts older than CONVERSATION_RETENTION_DAYS: from the worker's maintenance, at most hourly."""

    EVERY_SECONDS = 3600.0

    def __init__(self, store: ConversationStore, retention_days: int) -> None:
        self._store = store
        self._retention_ms = retention_days * 24 * 3600 * 1000
        self._last_run = 0.0

    def purge_when_due(self) -> None:
        if time.monotonic() - self._last_run < self.EVERY_SECONDS and self._last_run:
            return
        self._last_run = time.monotonic()
        deleted = self._store.purge_older_than(int(time.time() * 1000) - self._retention_ms)
        if deleted:
            get_logger("services.worker").info("Old transcripts deleted", messages=deleted)


def free_a_dead_schedulers_lock(connection: redis.Redis, queue: Queue) -> str | None:
    """Free the queue's scheduler lock if the scheduler holding it died on this host; returns its name.

    RQ's scheduler lock outlives a scheduler killed with its worker by a minute, and until it expires
    no delayed flush is enqueued: no chat's silence ends and no retry runs. A holder that ran here
    under a pid that no longer exists can't be enqueueing anything, so the lock is taken back at once.
    """
    key = RQScheduler.get_locking_key(queue.name)
    holder = connection.get(key)
    if holder is None:
        return None
    name = holder if isinstance(holder, str) else holder.decode()
    try:
        scheduler = RQScheduler.fetch(name, connection)
    except (SchedulerNotFound, KeyError, ValueError):  # gone, or a heartbeat without the rest: holder unknown
        return None
    if scheduler.hostname != socket.gethostname() or _alive(scheduler.pid):
        return None
    return name if release_lock(connection, key, name) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead too: a killed worker's scheduler lingers as one until its new parent reaps it.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc to ask: it may be alive
    return state not in ("Z", "X")


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
    with exit_on_configuration_error("worker"):
        build_backend(settings).close()  # a broken catalog stops the worker here, with one line
    connection = sync_client(settings.redis_url)
    job_class = paced_job_class(settings.job_retry_intervals_seconds)
    queue = inbound_queue(connection, settings.company_id, job_class=job_class)
    # Chats first: a client waiting for an answer comes before a reminder that is due any time in its window.
    notices = notices_queue(connection, settings.company_id, job_class=job_class)
    worker = FlushWorker(
        [queue, notices],
        connection=connection,
        serializer=JSONSerializer,
        job_class=job_class,
        maintenance_interval=settings.worker_maintenance_interval_seconds,
        # RQ runs maintenance only between blocking dequeues, which last worker_ttl - 15 s
        # (405 s by default): shorten them, or an abandoned job waits up to seven minutes.
        worker_ttl=settings.worker_maintenance_interval_seconds + 15,
        job_monitoring_interval=settings.worker_job_monitoring_interval_seconds,
        heartbeat_grace_seconds=settings.worker_heartbeat_grace_seconds,
        transcripts=TranscriptRetention(
            ConversationStore(settings.conversations_db), settings.conversation_retention_days
        ),
    )
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
    )
    worker.work(with_scheduler=True, logging_level=settings.log_level)


if __name__ == "__main__":
    main()
