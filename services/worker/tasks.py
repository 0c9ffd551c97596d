"""RQ job functions. The api enqueues them by dotted path with the JSON serializer.

Jobs may run more than once (RQ retries, a crashed worker's job is picked up again, an orphaned
work horse may still be finishing), so each step is idempotent: the batch stays in Redis until it
is answered, the reply decided for it is stored with it, every reply part carries an idempotency
key the gateway remembers, and a per-execution chat lock keeps two executions apart.
"""

from __future__ import annotations

import threading
import time
import uuid

from rq import get_current_job

from services.worker.ai.base import AIRequest
from services.worker.context import WorkerContext, current_context
from services.worker.reply import idempotency_key, reply_parts
from shared import redis_keys
from shared.batching import Batch
from shared.errors import PermanentError
from shared.logging import bound, get_logger
from shared.queueing import JOB_TIMEOUT_SECONDS, schedule_flush

log = get_logger(__name__)

LOCK_BUSY_RETRY_SECONDS = 2.0
CHAT_LOCK_TTL_MS = 30_000
"""Renewed every 10 s while the execution is alive, so a killed one frees the chat within 30 s."""
NEXT_BATCH_BUDGET_SECONDS = JOB_TIMEOUT_SECONDS / 2
"""Past this, a job leaves further batches to a fresh job instead of racing its own timeout."""
UNDELIVERED_RETRY_SECONDS = {"transient": 60.0, "permanent": 300.0}
"""When not even the apology could be sent, the batch stays and is tried again this much later."""

FRIENDLY_FAILURE_MESSAGE = (
    "Извините, сейчас не получается ответить. Администратор салона свяжется с вами в ближайшее время."
)
BUDGET_EXHAUSTED_MESSAGE = "Спасибо! Администратор салона прочитает ваши сообщения и ответит лично."


class ChatLockKeeper:
    """Holds a chat's lock for one execution and renews it from a thread while the job runs.

    The holder is unique per execution, not per RQ job: RQ retries keep the job id, and a retry
    must not enter a chat that an orphaned work horse of the same job is still answering.
    """

    def __init__(self, context: WorkerContext, company_id: str, chat: str) -> None:
        self._context = context
        self._company_id = company_id
        self._chat = chat
        self.holder = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="chat-lock", daemon=True)

    def acquire(self) -> bool:
        if not self._context.batches.acquire_chat(self._company_id, self._chat, self.holder, CHAT_LOCK_TTL_MS):
            return False
        self._thread.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(CHAT_LOCK_TTL_MS / 1000 / 3):
            try:
                if not self._context.batches.acquire_chat(self._company_id, self._chat, self.holder, CHAT_LOCK_TTL_MS):
                    log.error("Chat lock lost while answering; another execution may overlap", chat=self._chat)
            except Exception as error:  # Redis blip: the next renewal tries again well within the TTL
                log.warning("Chat lock renewal failed", error=str(error))

    def release(self) -> None:
        self._stop.set()
        self._context.batches.release_chat(self._company_id, self._chat, self.holder)


def flush_chat(company_id: str, chat: str) -> str:
    """Answer every batch of ``chat`` that is ready; reschedule itself when it must wait."""
    context = current_context()
    job = get_current_job()
    started = time.monotonic()
    lock = ChatLockKeeper(context, company_id, chat)
    with bound(company_id=company_id, chat=chat, job_id=job.id if job else None):
        if not lock.acquire():
            # Another execution is answering this chat; come back after it, keeping the chat's order.
            schedule_flush(context.queue, company_id, chat, LOCK_BUSY_RETRY_SECONDS)
            return "chat busy; rescheduled"
        try:
            answered = 0
            while True:
                if answered and time.monotonic() - started > NEXT_BATCH_BUDGET_SECONDS:
                    schedule_flush(context.queue, company_id, chat, 0)
                    return f"answered {answered} batch(es); the rest goes to a fresh job"
                taken = context.batches.take(company_id, chat)
                if taken.outcome == "empty":
                    return f"answered {answered} batch(es)"
                if taken.outcome == "wait":
                    schedule_flush(context.queue, company_id, chat, taken.wait_ms / 1000)
                    return f"answered {answered} batch(es); waiting {taken.wait_ms} ms for silence"
                assert taken.batch is not None
                answer_batch(context, taken.batch)
                answered += 1
        finally:
            lock.release()


def answer_batch(context: WorkerContext, batch: Batch) -> None:
    job = get_current_job()
    last_attempt = job is None or not job.retries_left
    with bound(batch_id=batch.id, message_id=batch.last_message_id):
        log.info("Processing message", batch_size=len(batch.messages), length=len(batch.text))
        try:
            parts = context.batches.saved_reply(batch)
            if parts is None:
                if not _within_reply_budget(context, batch):
                    _answer_without_ai(context, batch)
                    return
                parts = context.batches.save_reply(batch, _ask_ai(context, batch))
            for index, part in enumerate(parts):
                if index:
                    time.sleep(context.settings.reply_part_gap_seconds)
                result = context.sender.send_text(batch.company_id, batch.chat, part, idempotency_key(batch.id, index))
                log.info(
                    "Reply sent",
                    part=index + 1,
                    parts=len(parts),
                    wa_message_id=result.get("messageId"),
                    duplicate=result.get("duplicate", False),
                )
        except PermanentError as error:
            log.error("Failed to send", error=str(error), retry=False)
            _give_up(context, batch, error, "permanent")
            if job is not None:
                job.retries_left = None  # retrying can't help; go straight to the failed registry
            raise
        except Exception as error:  # transient, or unexpected: RQ retries; the last attempt gives up
            log.warning("Failed to send", error=f"{type(error).__name__}: {error}", last_attempt=last_attempt)
            if last_attempt:
                _give_up(context, batch, error, "transient")
            raise
        context.batches.finish(batch)


def _ask_ai(context: WorkerContext, batch: Batch) -> list[str]:
    response = context.ai.reply(
        AIRequest(
            company_id=batch.company_id,
            phone=batch.chat,
            text=batch.text,
            client_name=batch.push_name,
            message_count=len(batch.messages),
        )
    )
    return reply_parts(response.text)


def _within_reply_budget(context: WorkerContext, batch: Batch) -> bool:
    """Bursts are never rejected; AI turns per chat and hour are capped to protect AI cost."""
    key = redis_keys.reply_budget(batch.company_id, batch.chat, int(time.time() // 3600))
    with context.redis.pipeline(transaction=True) as pipe:
        pipe.sadd(key, batch.id)
        pipe.expire(key, 2 * 3600)
        pipe.scard(key)
        turns = int(pipe.execute()[2])
    return turns <= context.settings.reply_budget_per_hour


def _answer_without_ai(context: WorkerContext, batch: Batch) -> None:
    """Over budget: one note per chat and hour tells the client a person will read on; no AI call."""
    hour = int(time.time() // 3600)
    log.warning(
        "AI reply budget exhausted; a person must answer this chat", budget=context.settings.reply_budget_per_hour
    )
    context.sender.send_text(
        batch.company_id,
        batch.chat,
        BUDGET_EXHAUSTED_MESSAGE,
        f"budget-{redis_keys.chat_token(batch.company_id, batch.chat)}-{hour}",
    )
    context.batches.finish(batch)


def _give_up(context: WorkerContext, batch: Batch, error: Exception, kind: str) -> None:
    """Tell the client once and release the batch; if even that can't be sent, keep the batch."""
    try:
        context.sender.send_text(
            batch.company_id, batch.chat, FRIENDLY_FAILURE_MESSAGE, idempotency_key(batch.id, "failed")
        )
    except Exception as send_error:  # the gateway or WhatsApp may be the thing that is down
        delay = UNDELIVERED_RETRY_SECONDS[kind]
        log.error(
            "Failed to send the apology; the batch is kept and tried again",
            error=str(send_error),
            retry_in_seconds=delay,
        )
        schedule_flush(context.queue, batch.company_id, batch.chat, delay)
        return
    context.batches.finish(batch)
    log.error("Batch given up after an apology; the job goes to the failed registry", error=str(error))
