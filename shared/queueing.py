"""How flush jobs are put on RQ: by dotted path, with the JSON serializer and one retry policy.

The api never imports worker code; it names the job function as a string.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import redis
from rq import Queue, Retry
from rq.job import Job
from rq.serializers import JSONSerializer

from shared import redis_keys
from shared.reminders.notice import Notice

FLUSH_JOB = "services.worker.tasks.flush_chat"
NOTICE_JOB = "services.worker.tasks.send_notice"
NOTICE_JOB_TIMEOUT_SECONDS = 120
"""Reading the visit back from the backend, then one send (the send proxy waits up to 45 s)."""
NOTICE_MARKER_KEPT = timedelta(days=2)
"""The "queued once" marker outlives the moment a notice may be sent by this much."""

SEND_ALLOWANCE_SECONDS = 60
"""Sending a turn's reply parts and reaction after the turn's own budget (TURN_TIMEOUT_SECONDS) is spent."""


def job_timeout(turn_timeout_seconds: float) -> int:
    """A flush job's RQ timeout, derived from the turn budget; supervisord's stopwaitsecs must exceed it."""
    return int(turn_timeout_seconds + SEND_ALLOWANCE_SECONDS)


RETRY_INTERVALS_SECONDS = (5, 15, 30)
"""Transient failures (AI timeout, api or gateway down) are retried after these pauses (JOB_RETRY_INTERVALS).

Every job is created with as many retries as there are pauses; the worker that retries it decides how long
each pause is (``paced_job_class``), so a job created by the api and one created by the worker retry alike.
"""

RESULT_TTL_SECONDS = 600
"""Most flushes find nothing to do; their results are only worth keeping for a quick look."""
FAILURE_TTL_SECONDS = 7 * 24 * 3600


def inbound_queue(connection: redis.Redis, company_id: str, job_class: type[Job] = Job) -> Queue:
    return Queue(
        redis_keys.inbound_queue_name(company_id), connection=connection, serializer=JSONSerializer, job_class=job_class
    )


def paced_job_class(pauses: Sequence[int]) -> type[Job]:
    """Jobs whose retries wait ``pauses`` instead of the pauses stamped on them when they were created.

    RQ reads the pause from the job itself, and the api stamps the production pauses on every job it
    creates; this lets the worker's JOB_RETRY_INTERVALS apply to all of them, abandoned jobs included.
    """
    chosen = list(pauses)

    class PacedJob(Job):
        def get_retry_interval(self) -> int:
            self.retry_intervals = chosen
            interval: int = super().get_retry_interval()
            return interval

    return PacedJob


def flush_job_id(company_id: str, chat: str, enqueued: datetime) -> str:
    """Readable in ``rq info``: which chat, when enqueued; the random tail keeps every job distinct."""
    return f"flush-{redis_keys.chat_token(company_id, chat)}-{int(enqueued.timestamp() * 1000)}-{secrets.token_hex(3)}"


def enqueue_flush(
    queue: Queue,
    company_id: str,
    chat: str,
    timeout_seconds: int,
    pipeline: redis.client.Pipeline | None = None,
) -> None:
    """A flush job for ``chat``, to run now. Only the worker's dispatcher and its tests call this:
    everything else makes the chat due (``shared.batching.FlushSchedule``)."""
    job = queue.create_job(
        FLUSH_JOB,
        args=(company_id, chat),
        job_id=flush_job_id(company_id, chat, datetime.now(UTC)),
        timeout=timeout_seconds,
        result_ttl=RESULT_TTL_SECONDS,
        failure_ttl=FAILURE_TTL_SECONDS,
        retry=Retry(max=len(RETRY_INTERVALS_SECONDS), interval=list(RETRY_INTERVALS_SECONDS)),
        description=f"flush chat {chat} of company {company_id}",
    )
    queue.enqueue_job(job, pipeline=pipeline)


def notices_queue(connection: redis.Redis, company_id: str, job_class: type[Job] = Job) -> Queue:
    return Queue(
        redis_keys.notices_queue_name(company_id),
        connection=connection,
        serializer=JSONSerializer,
        job_class=job_class,
    )


def queue_notice_once(queue: Queue, notice: Notice, now: datetime) -> bool:
    """Queue one job for ``notice`` unless it was ever queued; True when this call queued it.

    The marker and the job are written in one transaction watched on the marker, so a scheduler killed
    half way queued nothing (the next poll queues it), and two schedulers queue it once between them.
    """
    connection = queue.connection
    marker = redis_keys.notice_planned(notice.company_id, notice.key)
    kept = max(int((notice.expires_at - now + NOTICE_MARKER_KEPT).total_seconds()), 60)
    job = queue.create_job(
        NOTICE_JOB,
        args=(notice.company_id, notice.model_dump(mode="json")),
        job_id=notice.job_id,
        timeout=NOTICE_JOB_TIMEOUT_SECONDS,
        result_ttl=RESULT_TTL_SECONDS,
        failure_ttl=FAILURE_TTL_SECONDS,
        retry=Retry(max=len(RETRY_INTERVALS_SECONDS), interval=list(RETRY_INTERVALS_SECONDS)),
        description=f"{notice.kind} for visit {notice.visit_id} at {notice.start.isoformat()}",
    )
    with connection.pipeline(transaction=True) as pipe:
        try:
            pipe.watch(marker)  # type: ignore[no-untyped-call]
            if pipe.exists(marker):
                return False
            pipe.multi()
            pipe.set(marker, notice.job_id, ex=kept)
            queue.enqueue_job(job, pipeline=pipe)
            pipe.execute()
        except redis.WatchError:
            return False
    return True
