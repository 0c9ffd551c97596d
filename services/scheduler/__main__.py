"""``python -m services.scheduler``: polls the booking backend and queues reminders and notices.

A loop, not RQ's scheduler: what is due depends on visits the salon may create, move or cancel at any time
in YClients, so they have to be looked at anyway; RQ's scheduler only runs jobs planned for a fixed moment,
which a moved visit would leave behind. See docs/reminders.md.
"""

from __future__ import annotations

import shared.no_rich  # noqa: F401 - first, before anything imports structlog

# isort: split

import signal
import time
from collections.abc import Callable
from types import FrameType

import redis

from services.scheduler.cycle import Cycle
from services.scheduler.leader import LeaderLock
from services.scheduler.settings import SchedulerSettings
from shared import redis_keys
from shared.booking.factory import build_backend
from shared.errors import TransientError
from shared.logging import bound, get_logger
from shared.process import exit_on_configuration_error, parse_command_line, prepare_process
from shared.queueing import notices_queue
from shared.redis_client import sync_client
from shared.reminders.plan import ReminderRules
from shared.visits.hooks import HookInbox
from shared.visits.own import OwnChanges
from shared.visits.store import VisitStore

SUMMARY = """\
scheduler: every SCHEDULER_POLL_SECONDS it asks the booking backend which visits changed and which
reminders are due, and queues one job per message (company-<COMPANY_ID>-notices) for the worker: the
day-before and two-hour reminders, and notices of visits the salon created, moved or cancelled."""

VARIABLES = (
    ("REDIS_URL", "the Redis holding the queue, the visits seen and the reminders queued"),
    ("COMPANY_ID", "the company served"),
    ("BOOKING_BACKEND", "local (an embedded salon) or yclients"),
    ("SCHEDULER_POLL_SECONDS", "how often the backend is asked what changed"),
    ("REMINDER_DAY_BEFORE_WINDOW", "the salon's evening hours for the day-before reminder"),
    ("REMINDER_BEFORE_MINUTES", "the short reminder's lead"),
)

log = get_logger("services.scheduler")

WAKE_MARGIN_SECONDS = 10.0
"""The inbox's Redis connection waits this much longer than a poll, so a quiet poll is not a timeout."""


class _Interrupted(Exception):
    """Raised by the signal handler only while the loop waits, to end the wait at once."""


class Stopping:
    def __init__(self) -> None:
        self.requested = False
        self._waiting = False
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        if self._waiting:
            raise _Interrupted

    def wait(self, waiting: Callable[[], list[int]]) -> list[int]:
        if self.requested:
            return []
        self._waiting = True
        try:
            return waiting()
        except _Interrupted:
            return []
        finally:
            self._waiting = False


def main() -> None:
    parse_command_line("services.scheduler", SUMMARY, SchedulerSettings, VARIABLES)
    settings = prepare_process("scheduler", SchedulerSettings)
    company_id = settings.company_id
    with exit_on_configuration_error("scheduler"):
        backend = build_backend(settings)
    connection = sync_client(settings.redis_url)
    waiting = redis.Redis.from_url(
        settings.redis_url, socket_timeout=settings.scheduler_poll_seconds + WAKE_MARGIN_SECONDS
    )
    cycle = Cycle(
        backend,
        VisitStore(connection, company_id),
        OwnChanges(connection, company_id),
        notices_queue(connection, company_id),
        ReminderRules(settings.day_before_window, settings.reminder_before_minutes),
        company_id,
        settings.clock_frozen_at,
    )
    inbox = HookInbox(waiting, company_id)
    leader = LeaderLock(connection, redis_keys.scheduler_lock(company_id))
    stopping = Stopping()
    log.info(
        "scheduler started",
        company_id=company_id,
        booking_backend=settings.booking_backend,
        poll_seconds=settings.scheduler_poll_seconds,
        day_before_window=settings.reminder_day_before_window,
        before_minutes=settings.reminder_before_minutes,
    )
    hook_ids: list[int] = []
    standing_by = False
    try:
        while not stopping.requested:
            with bound(company_id=company_id):
                if leader.hold():
                    if standing_by:
                        log.info("Scheduler lock taken; this scheduler leads now")
                    standing_by = False
                    _run_cycle(cycle, hook_ids)
                elif not standing_by:
                    standing_by = True
                    log.info("Another scheduler holds the lock; standing by")
            hook_ids = stopping.wait(lambda: _wait(inbox, settings.scheduler_poll_seconds))
    except _Interrupted:
        pass
    finally:
        leader.release()
        backend.close()
        connection.close()
        waiting.close()
        log.info("scheduler stopped")


def _run_cycle(cycle: Cycle, hook_ids: list[int]) -> None:
    try:
        report = cycle.run(hook_ids)
    except (TransientError, redis.RedisError) as error:
        log.warning("Scheduler cycle failed; trying again at the next poll", error=f"{type(error).__name__}: {error}")
        return
    except Exception:  # a bug must not stop reminders for good: the next cycle may well pass
        log.exception("Scheduler cycle failed unexpectedly; trying again at the next poll")
        return
    if report.notices or report.reminders:
        log.info("Scheduler cycle", notices=report.notices, reminders=report.reminders)


def _wait(inbox: HookInbox, seconds: float) -> list[int]:
    """Until the next poll, or sooner when YClients' webhook names a changed record."""
    try:
        return inbox.wait(seconds)
    except redis.RedisError as error:
        log.warning("Waiting for webhooks failed", error=str(error))
        time.sleep(min(seconds, 5.0))
        return []


if __name__ == "__main__":
    main()
