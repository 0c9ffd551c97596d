"""RQ job functions. The api enqueues them by dotted path with the JSON serializer.

Jobs may run more than once (RQ retries, a crashed worker's job is picked up again), so each
step is idempotent: the batch is kept in Redis until answered, and every reply part carries an
idempotency key the gateway remembers.
"""

from __future__ import annotations

import time

from rq import get_current_job

from services.worker.ai.base import AIRequest
from services.worker.context import WorkerContext, current_context
from services.worker.reply import idempotency_key, reply_parts
from shared import redis_keys
from shared.batching import Batch
from shared.errors import PermanentError, TransientError
from shared.logging import bound, get_logger
from shared.queueing import JOB_TIMEOUT_SECONDS, schedule_flush

log = get_logger(__name__)

LOCK_BUSY_RETRY_SECONDS = 2.0
CHAT_LOCK_TTL_MS = (JOB_TIMEOUT_SECONDS + 30) * 1000
"""Outlives the job's hard timeout, so a crashed holder's lock frees itself soon after."""

FRIENDLY_FAILURE_MESSAGE = (
    "Извините, сейчас не получается ответить. Администратор салона свяжется с вами в ближайшее время."
)
BUDGET_EXHAUSTED_MESSAGE = "Спасибо! Администратор салона прочитает ваши сообщения и ответит лично."


def flush_chat(company_id: str, chat: str) -> str:
    """Answer every batch of ``chat`` that is ready; reschedule itself when it must wait."""
    context = current_context()
    job = get_current_job()
    holder = job.id if job is not None else f"pid-{time.time_ns()}"
    with bound(company_id=company_id, chat=chat, job_id=holder):
        if not context.batches.acquire_chat(company_id, chat, holder, CHAT_LOCK_TTL_MS):
            # Another job is answering this chat; come back after it, keeping the chat's order.
            schedule_flush(context.queue, company_id, chat, LOCK_BUSY_RETRY_SECONDS)
            return "chat busy; rescheduled"
        try:
            answered = 0
            while True:
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
            context.batches.release_chat(company_id, chat, holder)


def answer_batch(context: WorkerContext, batch: Batch) -> None:
    job = get_current_job()
    last_attempt = job is None or not job.retries_left
    with bound(batch_id=batch.id, message_id=batch.last_message_id):
        log.info("Processing message", batch_size=len(batch.messages), length=len(batch.text))
        if not _within_reply_budget(context, batch):
            _answer_without_ai(context, batch)
            return
        try:
            response = context.ai.reply(
                AIRequest(
                    company_id=batch.company_id,
                    phone=batch.chat,
                    text=batch.text,
                    client_name=batch.push_name,
                    message_count=len(batch.messages),
                )
            )
            parts = reply_parts(response.text)
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
        except TransientError as error:
            log.warning("Failed to send", error=str(error), last_attempt=last_attempt)
            if last_attempt:
                _give_up(context, batch, error)
            raise
        except PermanentError as error:
            log.error("Failed to send", error=str(error), retry=False)
            _give_up(context, batch, error)
            if job is not None:
                job.retries_left = None  # retrying can't help; go straight to the failed registry
            raise
        context.batches.finish(batch)


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


def _give_up(context: WorkerContext, batch: Batch, error: Exception) -> None:
    """Tell the client once, and release the chat so later messages are still answered."""
    try:
        context.sender.send_text(
            batch.company_id, batch.chat, FRIENDLY_FAILURE_MESSAGE, idempotency_key(batch.id, "failed")
        )
    except Exception as send_error:  # the gateway may be the thing that is down
        log.error("Failed to send the apology", error=str(send_error))
    context.batches.finish(batch)
    log.error("Batch given up; job goes to the failed registry", error=str(error))
