"""RQ entry points. The api enqueues them by dotted path with the JSON serializer.

Only what is RQ's lives here: the job, its retry bookkeeping and the chat lock held for one
execution. Answering a batch is ``services.worker.pipeline.answer_batch``, which knows nothing of RQ.
"""

from __future__ import annotations

import threading
import uuid

from rq import get_current_job

from services.worker.context import current_deps
from services.worker.notices.deliver import deliver_notice
from services.worker.pipeline import WorkerDeps, answer_batch
from shared import redis_keys
from shared.errors import PermanentError
from shared.locks import RedisLock
from shared.logging import bound, get_logger
from shared.reminders.notice import Notice

log = get_logger(__name__)

LOCK_BUSY_RETRY_SECONDS = 2.0


class ChatLockKeeper:
    """Holds a chat's lock for one execution and renews it from a thread while the job runs.

    The holder is unique per execution, not per RQ job: RQ retries keep the job id, and a retry
    must not enter a chat that an orphaned work horse of the same job is still answering.
    """

    def __init__(self, deps: WorkerDeps, company_id: str, chat: str) -> None:
        self._chat = chat
        self.holder = uuid.uuid4().hex
        # Renewed every third of the TTL while the execution lives, so a killed one frees the chat within one TTL.
        ttl_ms = int(deps.settings.chat_lock_ttl_seconds * 1000)
        self._lock = RedisLock(deps.redis, redis_keys.chat_lock(company_id, chat), self.holder, ttl_ms)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="chat-lock", daemon=True)

    def acquire(self) -> bool:
        if not self._lock.acquire():
            return False
        self._thread.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(self._lock.ttl_ms / 1000 / 3):
            try:
                if not self._lock.renew():
                    log.error("Chat lock lost while answering; another execution may overlap", chat=self._chat)
            except Exception as error:  # Redis blip: the next renewal tries again well within the TTL
                log.warning("Chat lock renewal failed", error=str(error))

    def release(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)  # a renewal in flight must not outlive the release
        self._lock.release()


def flush_chat(company_id: str, chat: str) -> str:
    """Answer every batch of ``chat`` that is ready; reschedule itself when it must wait."""
    deps = current_deps()
    job = get_current_job()
    lock = ChatLockKeeper(deps, company_id, chat)
    with bound(company_id=company_id, chat=chat, job_id=job.id if job else None):
        if not lock.acquire():
            # Another execution is answering this chat; come back after it, keeping the chat's order.
            deps.reschedule(company_id, chat, LOCK_BUSY_RETRY_SECONDS)
            return "chat busy; rescheduled"
        try:
            taken = deps.batches.take(company_id, chat)
            if taken.outcome == "empty":
                return "nothing to answer"
            if taken.outcome == "wait":
                deps.reschedule(company_id, chat, taken.wait_ms / 1000)
                return f"waiting {taken.wait_ms} ms for silence"
            assert taken.batch is not None
            try:
                answer_batch(taken.batch, deps, last_attempt=job is None or not job.retries_left)
            except PermanentError:
                if job is not None:
                    job.retries_left = None  # retrying can't help; go straight to the failed registry
                raise
            # One batch per job: a turn may take its whole budget, so the next gets a job (and a timeout) of its own.
            if deps.batches.waiting(company_id, chat):
                deps.reschedule(company_id, chat, 0)
            return "answered 1 batch"
        finally:
            lock.release()


def send_notice(company_id: str, payload: dict[str, object]) -> str:
    """One reminder or notice the scheduler queued (``shared.queueing.queue_notice_once``).

    A transient failure (the backend, the api or WhatsApp down) raises and RQ retries; the send's
    idempotency key makes a retry after a send that did go out harmless.
    """
    notice = Notice.model_validate(payload)
    job = get_current_job()
    with bound(company_id=company_id, job_id=job.id if job else None):
        try:
            return deliver_notice(notice, current_deps())
        except PermanentError:
            if job is not None:
                job.retries_left = None
            raise
