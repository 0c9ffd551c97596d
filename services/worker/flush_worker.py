"""The RQ worker of each worker process: jobs run in the process itself, which keeps its resources.

RQ's default ``Worker`` forks a work horse per job, and a horse has to rebuild every resource of a
turn (Redis pool, booking backend, provider, HTTP client): 100-300 ms before the job does anything,
about 136 ms a job end to end. ``FlushWorker`` is RQ's ``SimpleWorker`` instead: the job runs in the
process's main thread, with the resources ``services.worker.context`` built once and kept (about 5 ms a
job). Concurrency comes from WORKER_PROCESSES such processes (``pool.WorkerPool``), not from horses.
What the forking worker did for its horse is done here by threads of the one process:

* a job's heartbeat (which tells RQ the job is alive) is renewed from a thread every
  WORKER_JOB_MONITORING_INTERVAL seconds, so a job whose process was killed is found abandoned
  WORKER_HEARTBEAT_GRACE_SECONDS after its last heartbeat and retried by any other process;
* a job's timeout is RQ's SIGALRM in the main thread, as it was in a horse; a job still running
  WORKER_HEARTBEAT_GRACE_SECONDS after its timeout (it swallowed the alarm, or is stuck where Python
  can't interrupt it) gets its process killed, as RQ killed a stuck horse: the pool starts a fresh one
  and the job is retried as abandoned;
* RQ's scheduler (retries, and anything else scheduled for later) runs as a thread of whichever process
  holds its lock, not as a forked process: it dies with its process and never outlives it holding the lock.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from typing import Any

import redis
from redis.client import Pipeline
from rq import Queue
from rq.exceptions import SchedulerNotFound
from rq.executions import Execution
from rq.job import Job
from rq.scheduler import RQScheduler
from rq.scheduler import run as run_scheduler
from rq.scripts import release_lock
from rq.serializers import JSONSerializer
from rq.utils import now
from rq.worker import SimpleWorker, WorkerStatus

from services.worker.context import current_deps
from services.worker.settings import WorkerSettings
from shared.conversations import ConversationStore
from shared.logging import bind_process, get_logger, switch_json_log
from shared.process import pid_alive
from shared.queueing import inbound_queue, notices_queue, paced_job_class
from shared.redis_client import sync_client

log = get_logger(__name__)

SCHEDULER_STOP_SECONDS = 5.0
"""How long a stopping worker waits for its scheduler thread (it sleeps one second between passes)."""


class FlushWorker(SimpleWorker):
    """RQ's SimpleWorker with job heartbeats and a stuck-job watchdog from a thread, the scheduler as a
    thread, and the grace after a missed heartbeat as a setting instead of a fixed 60 s.

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

    def execute_job(self, job: Job, queue: Queue) -> None:
        execution = self.prepare_execution(job)
        heartbeat = JobHeartbeat(self, job, execution)
        heartbeat.start()
        try:
            self.perform_job(job, queue, execution)
        finally:
            heartbeat.stop()
        self.set_state(WorkerStatus.IDLE)

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        """RQ's heartbeat, in one round trip: it is three commands, and RQ sends them one by one between a
        dequeue and its job starting, where every round trip is a reply's latency."""
        if pipeline is not None:
            super().heartbeat(timeout, pipeline=pipeline)
            return
        with self.connection.pipeline(transaction=False) as batched:
            super().heartbeat(timeout, pipeline=batched)
            batched.execute()

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        interval = int(self.job_monitoring_interval)
        if job.timeout and job.timeout > 0:
            interval = int(min(job.timeout - working_time, interval))
        return interval + self.heartbeat_grace_seconds

    def run_maintenance_tasks(self) -> None:
        # A sibling process killed while it held the scheduler lock would hold up retries for a minute.
        for queue in self.queues:
            freed = free_a_dead_schedulers_lock(self.connection, queue)
            if freed is not None:
                log.warning("Took over the scheduler lock of a scheduler that died with its worker", scheduler=freed)
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]
        if self.transcripts is not None:
            self.transcripts.purge_when_due()

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str = "",
        log_format: str = "",
    ) -> None:
        self.scheduler = ThreadedScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level or "INFO",
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks(auto_start=True)  # type: ignore[no-untyped-call]

    def stop_scheduler(self) -> None:
        if self.scheduler is None:
            return
        self.scheduler.request_stop()  # type: ignore[no-untyped-call]
        thread: object = self.scheduler._process
        if isinstance(thread, threading.Thread) and thread is not threading.current_thread():
            thread.join(SCHEDULER_STOP_SECONDS)


class ThreadedScheduler(RQScheduler):
    """RQ's scheduler in a thread of the worker: one process less per host, and it dies with its worker.

    Only the worker holding the queue's scheduler lock runs one; the others try again at each maintenance.
    """

    def start(self) -> threading.Thread:
        self._status = self.Status.STARTED
        self._stop_requested = False
        thread = threading.Thread(target=run_scheduler, args=(self,), name="rq-scheduler", daemon=True)
        self._process = thread  # type: ignore[assignment]  # RQ only asks it is_alive()
        thread.start()
        return thread

    def _install_signal_handlers(self) -> None:
        """Signals belong to the main thread; the worker stops its scheduler itself (``stop_scheduler``)."""


class JobHeartbeat:
    """Tells RQ a job is alive while it runs in the main thread, and kills a process whose job outlived its timeout."""

    def __init__(self, worker: FlushWorker, job: Job, execution: Execution) -> None:
        self._worker = worker
        self._job = job
        self._execution = execution
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._worker.job_monitoring_interval):
            if self._overdue():
                log.error(
                    "A job outlived its timeout and the grace after it; killing this worker process so a fresh one"
                    " takes over (the job is retried as abandoned)",
                    job_id=self._job.id,
                    timeout_seconds=self._job.timeout,
                )
                os.kill(os.getpid(), signal.SIGKILL)
            try:
                self._worker.maintain_heartbeats(self._job, self._execution)
            except redis.RedisError as error:  # the next beat tries again, well within the grace
                log.warning("Job heartbeat failed", job_id=self._job.id, error=str(error))

    def _overdue(self) -> bool:
        timeout = self._job.timeout
        started = self._job.started_at
        if not timeout or timeout <= 0 or started is None:
            return False
        return bool((now() - started).total_seconds() > timeout + self._worker.heartbeat_grace_seconds)


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
            log.info("Old transcripts deleted", messages=deleted)


def free_a_dead_schedulers_lock(connection: redis.Redis, queue: Queue) -> str | None:
    """Free the queue's scheduler lock if the scheduler holding it died on this host; returns its name.

    RQ's scheduler lock outlives a scheduler killed with its worker by a minute, and until it expires
    no delayed job is enqueued: no retry runs. A holder that ran here under a pid that no longer
    exists can't be enqueueing anything, so the lock is taken back at once.
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
    if scheduler.hostname != socket.gethostname() or pid_alive(scheduler.pid):
        return None
    return name if release_lock(connection, key, name) else None


def run_worker(settings: WorkerSettings, number: int) -> None:
    """One process of the pool (``number`` 1..WORKER_PROCESSES): its own log, resources and RQ worker.

    Its JSON log is ``worker-<number>.json.log``: a rotating log file can have one writer only. Every
    line carries ``worker_process``, so the console log (one for the pool) tells the processes apart.
    """
    switch_json_log(f"worker-{number}")
    bind_process(worker_process=number)
    current_deps()  # built here once and kept for every job, so the first job doesn't pay for it
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
        # One process purges old transcripts; the others would only repeat its deletes.
        transcripts=TranscriptRetention(
            ConversationStore(settings.conversations_db), settings.conversation_retention_days
        )
        if number == 1
        else None,
    )
    worker.work(with_scheduler=True, logging_level=settings.log_level)
