"""The worker as a pool of WORKER_PROCESSES processes forked from its main process, each running its jobs itself:
real processes, real Redis. A process that dies is replaced, a job past its timeout is stopped, a job that can't be
stopped costs its process (never the pool), and SIGTERM lets every job finish."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable

import pytest
import redis
from rq import Worker
from rq.job import Job, JobStatus

from shared.queueing import inbound_queue
from tests.support.replies import answered_once
from tests.support.services import QUICK_ABANDON, Stack, running
from tests.support.waiting import wait_for

COMPANY = "962302"


def wait_for_processes(stack: Stack, count: int, *, without: frozenset[int] | set[int] = frozenset()) -> set[int]:
    def ready() -> set[int] | None:
        found = stack.worker_processes()
        return found if len(found) == count and not found & without else None

    return wait_for(ready, 60, f"{count} worker processes")


def finished_as(job: Job, *statuses: JobStatus) -> bool:
    return job.get_status(refresh=True) in statuses


def test_the_worker_runs_its_processes_and_replaces_one_that_is_killed(
    make_stack: Callable[..., Stack], redis_client: redis.Redis
) -> None:
    stack = make_stack(WORKER_PROCESSES="3")
    stack.start("worker")
    queue = inbound_queue(redis_client, COMPANY)
    first = wait_for_processes(stack, 3)
    wait_for(lambda: Worker.count(connection=redis_client, queue=queue) == 3, 30, "three RQ workers on the queue")

    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    after = wait_for_processes(stack, 3, without={victim})
    assert len(after & first) == 2, "only the killed process was replaced"
    assert stack.services["worker"].running

    # The new process takes jobs like the others: enough jobs at once reach every process.
    jobs = [queue.enqueue("os.getpid") for _ in range(30)]
    wait_for(lambda: all(finished_as(job, JobStatus.FINISHED) for job in jobs), 60, "every job")
    assert {job.return_value() for job in jobs} <= after


def test_a_job_past_its_timeout_is_stopped_and_its_process_takes_the_next_job(
    make_stack: Callable[..., Stack], redis_client: redis.Redis
) -> None:
    stack = make_stack(WORKER_PROCESSES="1")
    stack.start("worker")
    queue = inbound_queue(redis_client, COMPANY)
    process = wait_for_processes(stack, 1)

    stuck = queue.enqueue("time.sleep", 600, job_timeout=1)
    wait_for(lambda: finished_as(stuck, JobStatus.FAILED), 60, "the job past its timeout to fail")
    result = stuck.latest_result()
    assert result is not None
    assert "JobTimeoutException" in str(result.exc_string)

    # RQ's alarm stopped the job, not the process: the same process runs the next one.
    after = queue.enqueue("os.getpid")
    wait_for(lambda: finished_as(after, JobStatus.FINISHED), 60, "the next job")
    assert {after.return_value()} == process == stack.worker_processes()


def test_a_job_that_swallows_its_timeout_costs_its_process_and_the_pool_starts_another(
    make_stack: Callable[..., Stack], redis_client: redis.Redis
) -> None:
    stack = make_stack(WORKER_PROCESSES="1", **QUICK_ABANDON)
    stack.start("worker")
    queue = inbound_queue(redis_client, COMPANY)
    stuck_process = wait_for_processes(stack, 1)

    stuck = queue.enqueue("tests.support.jobs.sleep_through_timeouts", 600, job_timeout=1)
    # Its timeout (1 s) and the grace after it (WORKER_HEARTBEAT_GRACE_SECONDS=3) pass; the process is killed.
    fresh = wait_for_processes(stack, 1, without=stuck_process)
    assert "A job outlived its timeout" in "\n".join(stack.log_lines("worker"))
    # The job it held is found abandoned (it has no retries left) instead of being run forever.
    wait_for(lambda: finished_as(stuck, JobStatus.FAILED), 60, "the abandoned job in the failed registry")
    after = queue.enqueue("os.getpid")
    wait_for(lambda: finished_as(after, JobStatus.FINISHED), 60, "a job on the fresh process")
    assert {after.return_value()} == fresh


@pytest.mark.slow
def test_sigterm_lets_the_job_in_progress_finish_before_the_worker_exits(make_stack: Callable[..., Stack]) -> None:
    # A pause between the reply's two parts (the price list, then "Чем ещё могу помочь?") to stop the worker in.
    stack = make_stack(REPLY_PART_GAP_SECONDS="3")
    stack.start()
    phone = "79001110011"
    stack.client_writes(phone, "Какие у вас цены?")
    wait_for(lambda: len(stack.outbox(phone)) == 1, 60, "the first part of the reply")

    worker = stack.services["worker"]
    assert worker.process is not None
    processes = stack.worker_processes()
    worker.signal(signal.SIGTERM)  # the whole group, as supervisord stops it
    assert worker.process.wait(120) == 0
    # The second part went out before the worker exited, and none of its processes is left behind.
    assert answered_once(stack, phone)
    assert not any(running(pid) for pid in processes)


def test_each_worker_process_writes_its_own_json_log_and_marks_every_line_its_threads_too(
    make_stack: Callable[..., Stack], redis_client: redis.Redis
) -> None:
    stack = make_stack(WORKER_PROCESSES="2")
    stack.start("worker")
    queue = inbound_queue(redis_client, COMPANY)
    wait_for_processes(stack, 2)
    wait_for(lambda: Worker.count(connection=redis_client, queue=queue) == 2, 30, "two RQ workers on the queue")
    jobs = [queue.enqueue("os.getpid") for _ in range(20)]
    wait_for(lambda: all(finished_as(job, JobStatus.FINISHED) for job in jobs), 60, "every job")

    logs = stack.root / "log"
    for number in (1, 2):
        lines = [json.loads(line) for line in (logs / f"worker-{number}.json.log").read_text().splitlines()]
        assert lines, f"worker-{number}.json.log is empty"
        unmarked = [line for line in lines if line.get("worker_process") != number]
        assert not unmarked, unmarked[:3]
    # The main process runs no job: its own file has the pool's lines only.
    main = (logs / "worker.json.log").read_text()
    assert "worker started" in main and "os.getpid" not in main
