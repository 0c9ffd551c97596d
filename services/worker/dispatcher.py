"""Turns chats that are due for a flush into RQ jobs: a thread in every worker process.

The api only marks a chat due (``shared.batching.FlushSchedule``); creating an RQ job per message
was most of the webhook's cost. Each dispatcher waits on the wakeup list the api pushes to, so a
chat due now becomes a job at once, and otherwise sleeps until the earliest chat is due (at most
``MAX_SLEEP_SECONDS``, in case a wakeup went to another dispatcher or was lost).

Removing a chat from the due set and enqueueing its job happen in one Redis transaction: a chat is
never dropped between the two. Two dispatchers may both enqueue a job for the same chat; the second
job finds the chat busy or empty, as any extra flush does. A chat whose due time moved later after
it was read is still flushed now; its job finds the batch window open and schedules the chat again.
"""

from __future__ import annotations

import threading

import redis
from rq import Queue

from shared.batching import DueChats, FlushSchedule
from shared.logging import bound, get_logger
from shared.queueing import enqueue_flush

log = get_logger(__name__)

CLAIM_LIMIT = 100
MAX_SLEEP_SECONDS = 1.0
ERROR_PAUSE_SECONDS = 1.0


class FlushDispatcher:
    def __init__(self, client: redis.Redis, queue: Queue, company_id: str, job_timeout_seconds: int) -> None:
        self._client = client
        self._queue = queue
        self._company_id = company_id
        self._job_timeout = job_timeout_seconds
        self.schedule = FlushSchedule(client, company_id)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="flush-dispatcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=MAX_SLEEP_SECONDS + 5)

    def dispatch_due(self) -> DueChats:
        """Enqueue a flush job for every chat due now; returns what was due and when the next one is."""
        due = self.schedule.due(CLAIM_LIMIT)
        if not due.chats:
            return due
        with self._client.pipeline(transaction=True) as pipe:
            pipe.multi()  # explicit, or RQ's enqueue would try to WATCH after the ZREMs were buffered
            for chat in due.chats:
                pipe.zrem(self.schedule.due_key, chat)
                enqueue_flush(self._queue, self._company_id, chat, self._job_timeout, pipeline=pipe)
            pipe.execute()
        for chat in due.chats:
            with bound(company_id=self._company_id, chat=chat):
                log.debug("Chat due; flush job enqueued")
        return due

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                due = self.dispatch_due()
                if len(due.chats) == CLAIM_LIMIT:
                    continue  # more may be due right now
                sleep = MAX_SLEEP_SECONDS if due.next_in_ms is None else min(MAX_SLEEP_SECONDS, due.next_in_ms / 1000)
                if sleep > 0:
                    self.schedule.wait_for_wakeup(sleep)
            except redis.RedisError as error:
                # Redis away: due chats stay in the set; nothing is lost while we wait for it.
                log.warning("Flush dispatcher cannot reach Redis; retrying", error=str(error))
                self._stop.wait(ERROR_PAUSE_SECONDS)
            except Exception as error:  # a bug here must not stop dispatching for good
                log.exception("Flush dispatcher failed; retrying", error=str(error))
                self._stop.wait(ERROR_PAUSE_SECONDS)
