"""The worker process around RQ: retries paced by its own settings, abandoned jobs found in seconds when
configured so, and a scheduler killed with its worker no longer holding up every delayed flush."""

from __future__ import annotations

import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import redis
from rq.job import Job
from rq.scheduler import RQScheduler
from rq.serializers import JSONSerializer

from services.worker.flush_worker import FlushWorker, free_a_dead_schedulers_lock
from shared.queueing import enqueue_flush, inbound_queue, paced_job_class
from tests.support.waiting import wait_for

COMPANY = "962302"


def test_each_retry_waits_the_workers_pause_not_the_one_stamped_on_the_job(redis_client: redis.Redis) -> None:
    # Created as the dispatcher creates it, with the production pauses (5, 15, 30) stamped on the job.
    enqueue_flush(inbound_queue(redis_client, COMPANY), COMPANY, "79001112233", 150)
    paced = paced_job_class([40, 400, 4000])
    queue = inbound_queue(redis_client, COMPANY, job_class=paced)
    job = queue.jobs[0]
    waits = []
    for _ in range(3):
        before = time.time()
        with redis_client.pipeline() as pipe:
            job.retry(queue, pipe)
            pipe.execute()
        waits.append(queue.scheduled_job_registry.get_scheduled_time(job).timestamp() - before)
    assert [round(wait, -1) for wait in waits] == [40, 400, 4000]


def test_a_job_is_abandoned_the_grace_after_its_expected_heartbeat_not_rqs_fixed_minute(
    redis_client: redis.Redis,
) -> None:
    queue = inbound_queue(redis_client, COMPANY)
    worker = FlushWorker(
        [queue],
        connection=redis_client,
        serializer=JSONSerializer,
        job_monitoring_interval=1,
        heartbeat_grace_seconds=3,
    )
    job = Job.create("services.worker.tasks.flush_chat", connection=redis_client, timeout=150)
    assert worker.get_heartbeat_ttl(job) == 4


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def zombie_pid() -> subprocess.Popen[bytes]:
    """A child that has exited and not been reaped, as a killed worker's scheduler is until init reaps it."""
    process = subprocess.Popen(["true"])
    wait_for(lambda: Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z", 10, "a zombie")
    return process


def hold_the_lock(client: redis.Redis, queue_name: str, hostname: str, pid: int) -> None:
    scheduler = RQScheduler([queue_name], connection=client, name="earlier-scheduler")
    scheduler.hostname = hostname
    scheduler.pid = pid
    scheduler.last_heartbeat = datetime.now(UTC)
    scheduler.save()
    client.set(RQScheduler.get_locking_key(queue_name), scheduler.name, ex=61)


def test_the_lock_of_a_scheduler_that_died_on_this_host_is_taken_back(redis_client: redis.Redis) -> None:
    queue = inbound_queue(redis_client, COMPANY)
    hold_the_lock(redis_client, queue.name, socket.gethostname(), dead_pid())
    assert free_a_dead_schedulers_lock(redis_client, queue) == "earlier-scheduler"
    assert redis_client.get(RQScheduler.get_locking_key(queue.name)) is None


def test_a_zombie_scheduler_counts_as_dead(redis_client: redis.Redis) -> None:
    queue = inbound_queue(redis_client, COMPANY)
    zombie = zombie_pid()
    try:
        hold_the_lock(redis_client, queue.name, socket.gethostname(), zombie.pid)
        assert free_a_dead_schedulers_lock(redis_client, queue) == "earlier-scheduler"
    finally:
        zombie.wait()


def test_the_lock_of_a_live_scheduler_is_left_alone(redis_client: redis.Redis) -> None:
    queue = inbound_queue(redis_client, COMPANY)
    alive = subprocess.Popen(["sleep", "30"])
    try:
        hold_the_lock(redis_client, queue.name, socket.gethostname(), alive.pid)
        assert free_a_dead_schedulers_lock(redis_client, queue) is None
        assert redis_client.get(RQScheduler.get_locking_key(queue.name)) == b"earlier-scheduler"
    finally:
        alive.kill()
        alive.wait()


def test_the_lock_of_a_scheduler_on_another_host_is_left_alone(redis_client: redis.Redis) -> None:
    queue = inbound_queue(redis_client, COMPANY)
    hold_the_lock(redis_client, queue.name, "another-host", dead_pid())  # that pid means nothing here
    assert free_a_dead_schedulers_lock(redis_client, queue) is None
    assert redis_client.get(RQScheduler.get_locking_key(queue.name)) == b"earlier-scheduler"
