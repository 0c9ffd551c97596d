"""Answering one batch, without RQ: decide once, store the decision, deliver it idempotently.

A batch may be answered more than once (RQ retries, a killed worker's job picked up again, an
orphaned work horse still finishing), so:

1. the decision (the commands run, their results, the reply parts, the reaction) is stored under
   the batch in the same Redis transaction as the chat's memory; a retry finds it and only
   delivers it again;
2. while deciding, every side effect at the booking backend goes through the turn's ledger, so a
   retry that dies before the decision was stored checks the backend instead of acting twice;
3. every reply part and reaction carries an idempotency key the gateway remembers.

A chat a person has taken over (the operator's takeover, or the salon writing from its own phone)
is not answered: its messages stay in the transcript as waiting. The first turn after the pause
ends reads the ones no person answered together with the new batch, so none is lost and none is
answered twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import redis
from pydantic import ValidationError

from services.worker.notices.confirm import answered_reminder, calendar_links, confirm_reminded_visit
from services.worker.notices.replies import meaning
from services.worker.receptionist.agent import Receptionist
from services.worker.receptionist.decision import Decision
from services.worker.receptionist.ledger import TurnLedger
from services.worker.receptionist.memory import ChatMemory, MemoryStore
from services.worker.reply import idempotency_key, reply_parts
from services.worker.settings import WorkerSettings
from shared import redis_keys
from shared.batching import Batch, BatchStore
from shared.conversations import ConversationStore, TranscriptEntry
from shared.deadline import deadline
from shared.errors import PermanentError
from shared.logging import bound, get_logger
from shared.phones import GROUP_SUFFIX

log = get_logger(__name__)

UNDELIVERED_RETRY_SECONDS = {"transient": 60.0, "permanent": 300.0}
"""When not even the apology could be sent, the batch stays and is tried again this much later."""

FRIENDLY_FAILURE_MESSAGE = (
    "Извините, сейчас не получается ответить. Администратор салона свяжется с вами в ближайшее время."
)
BUDGET_EXHAUSTED_MESSAGE = "Спасибо! Администратор салона прочитает ваши сообщения и ответит лично."
GROUP_CHAT_NOTE = "group chats are answered by people, not the receptionist"
HELD_MESSAGES_TAKEN_WITHIN_MS = 24 * 3600 * 1000
"""Messages held during a pause that the next turn reads too; older ones wait for a person on the page."""


class Sender(Protocol):
    """How replies leave the worker: the api's proxies in production (``ApiSender``)."""

    def send_text(
        self,
        company_id: str,
        chat: str,
        text: str,
        idempotency_key: str,
        *,
        batch_id: str | None = None,
        in_reply_to: str | None = None,
    ) -> dict[str, Any]: ...

    def send_reaction(
        self, company_id: str, chat: str, message_id: str, emoji: str, idempotency_key: str
    ) -> dict[str, Any]: ...


@dataclass
class WorkerDeps:
    settings: WorkerSettings
    redis: redis.Redis
    batches: BatchStore
    sender: Sender
    receptionist: Receptionist
    memory: MemoryStore
    conversations: ConversationStore
    """The chats' transcripts: whether a person has the chat, what waited, and which commands each turn ran."""
    reschedule: Callable[[str, str, float], None]
    """Schedule another flush of (company_id, chat) after a delay in seconds."""


def answer_batch(batch: Batch, deps: WorkerDeps, *, last_attempt: bool) -> None:
    """Answer ``batch`` once; raises to let the caller retry (transient) or fail the job (permanent)."""
    with bound(batch_id=batch.id, message_id=batch.last_message_id):
        log.info("Processing message", batch_size=len(batch.messages), length=len(batch.text))
        try:
            _record_inbound(batch, deps)
            decision = _decision(batch, deps)
            if decision is not None:
                _deliver(batch, decision, deps)
        except PermanentError as error:
            log.error("Failed to send", error=str(error), retry=False)
            _give_up(batch, deps, error, "permanent")
            raise
        except Exception as error:  # transient, or unexpected: the caller retries; the last attempt gives up
            log.warning("Failed to send", error=f"{type(error).__name__}: {error}", last_attempt=last_attempt)
            if last_attempt:
                _give_up(batch, deps, error, "transient")
            raise
        deps.batches.finish(batch)
        if decision is not None:
            _record_turn(batch, decision, deps)
            log.info(
                "Batch answered",
                provider=decision.provider,
                parts=len(decision.parts),
                reaction=decision.reaction.emoji if decision.reaction else None,
                commands=[f"{step.name}:{step.outcome}" for step in decision.steps],
            )


def _decision(batch: Batch, deps: WorkerDeps) -> Decision | None:
    """The stored decision, or a new one stored atomically with the chat's memory; None when not AI-answered."""
    saved = deps.batches.saved_decision(batch)
    if saved is not None:
        log.info("Replaying the decision stored for this batch")
        return Decision.model_validate_json(saved)
    if batch.chat.endswith(GROUP_SUFFIX):
        log.info("Not answered by the receptionist", reason=GROUP_CHAT_NOTE)
        return Decision(provider="none")
    if _taken_over(batch, deps):
        return None
    reminder = answered_reminder(batch, deps)
    if reminder is not None and meaning(batch.text) == "yes":
        confirmed = confirm_reminded_visit(batch, deps, reminder)
        if confirmed is not None:
            return _store(batch, deps, confirmed, None)
    if not _within_reply_budget(deps, batch):
        _answer_without_ai(deps, batch)
        return None
    held = _held_messages(batch, deps)
    memory = deps.memory.load(batch.company_id, batch.chat, history=deps.receptionist.reads_history)
    try:
        with deadline(deps.settings.turn_timeout_seconds):
            decision = deps.receptionist.decide(
                phone=batch.chat,
                text="\n".join([*(entry.text for entry in held), batch.text]),
                last_message_id=batch.last_message_id,
                push_name=batch.push_name,
                memory=memory,
                ledger=TurnLedger(deps.redis, batch.company_id, batch.id),
                reminder=reminder if reminder is not None and meaning(batch.text) == "no" else None,
            )
    except ValidationError as error:
        # Data the models refuse is a bug or a hostile input; deciding the same batch again gives the same.
        raise PermanentError(f"the turn produced invalid data: {error.errors()[0].get('msg')}") from error
    decision.parts = [chunk for part in decision.parts for chunk in reply_parts(part)]
    decision.parts += calendar_links(decision, deps.settings, batch.company_id, memory.preferences.language or "ru")
    return _store(batch, deps, decision, memory)


def _store(batch: Batch, deps: WorkerDeps, decision: Decision, memory: ChatMemory | None) -> Decision:
    """Store the decision (with the chat's memory) once; if another execution stored one first, that one wins."""
    encoded = decision.model_dump_json()
    with deps.redis.pipeline(transaction=True) as pipe:
        deps.batches.save_decision(pipe, batch, encoded)
        if memory is not None:
            MemoryStore.save(pipe, batch.company_id, batch.chat, memory)
        kept = pipe.execute()[0]
    if kept is not None and kept.decode() != encoded:
        log.warning("Another execution decided this batch first; sending its decision")
        return Decision.model_validate_json(kept)
    return decision


def _record_inbound(batch: Batch, deps: WorkerDeps) -> None:
    """The gateway already wrote these; a message posted straight to the api's webhook was not, so write it."""
    for message in batch.messages:
        deps.conversations.record_client_message(message)


def _taken_over(batch: Batch, deps: WorkerDeps) -> bool:
    """A person has this chat: its messages wait for them (and for the AI's next turn after the pause)."""
    paused_until = deps.conversations.paused_until(batch.chat)
    if paused_until is None:
        return False
    deps.conversations.hold(batch.chat, [message.message_id for message in batch.messages])
    log.info(
        "A person has this chat; the AI does not answer it",
        paused_until=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(paused_until / 1000)),
    )
    return True


def _held_messages(batch: Batch, deps: WorkerDeps) -> list[TranscriptEntry]:
    """What the client wrote during the pause that nobody answered: this turn reads it too."""
    in_batch = {message.message_id for message in batch.messages}
    since = int(time.time() * 1000) - HELD_MESSAGES_TAKEN_WITHIN_MS
    held = [
        entry
        for entry in deps.conversations.held_messages(batch.chat)
        if entry.message_id not in in_batch and entry.at >= since
    ]
    if held:
        log.info("Reading the messages that waited during a pause", held=len(held))
    return held


def _record_turn(batch: Batch, decision: Decision, deps: WorkerDeps) -> None:
    """Which turn answered which messages, with its commands: the operator's "why did the bot say that"."""
    answered = [message.message_id for message in batch.messages]
    answered += [entry.message_id for entry in _held_messages(batch, deps) if entry.message_id]
    commands = [step.model_dump(mode="json") for step in decision.steps]
    deps.conversations.record_turn(batch.chat, batch.id, decision.provider, commands, answered)


def _deliver(batch: Batch, decision: Decision, deps: WorkerDeps) -> None:
    for index, part in enumerate(decision.parts):
        if index:
            time.sleep(deps.settings.reply_part_gap_seconds)
        result = deps.sender.send_text(
            batch.company_id,
            batch.chat,
            part,
            idempotency_key(batch.id, index),
            batch_id=batch.id,
            in_reply_to=batch.last_message_id,
        )
        log.info(
            "Reply sent",
            part=index + 1,
            parts=len(decision.parts),
            wa_message_id=result.get("messageId"),
            duplicate=result.get("duplicate", False),
        )
    if decision.reaction is not None:
        result = deps.sender.send_reaction(
            batch.company_id,
            batch.chat,
            decision.reaction.message_id,
            decision.reaction.emoji,
            idempotency_key(batch.id, "reaction"),
        )
        log.info("Reaction sent", emoji=decision.reaction.emoji, duplicate=result.get("duplicate", False))


def _within_reply_budget(deps: WorkerDeps, batch: Batch) -> bool:
    """Bursts are never rejected; AI turns per chat and hour are capped to protect AI cost."""
    key = redis_keys.reply_budget(batch.company_id, batch.chat, int(time.time() // 3600))
    with deps.redis.pipeline(transaction=True) as pipe:
        pipe.sadd(key, batch.id)
        pipe.expire(key, 2 * 3600)
        pipe.scard(key)
        turns = int(pipe.execute()[2])
    return turns <= deps.settings.reply_budget_per_hour


def _answer_without_ai(deps: WorkerDeps, batch: Batch) -> None:
    """Over budget: one note per chat and hour tells the client a person will read on; no AI call."""
    hour = int(time.time() // 3600)
    log.warning("AI reply budget exhausted; a person must answer this chat", budget=deps.settings.reply_budget_per_hour)
    deps.sender.send_text(
        batch.company_id,
        batch.chat,
        BUDGET_EXHAUSTED_MESSAGE,
        f"budget-{redis_keys.chat_token(batch.company_id, batch.chat)}-{hour}",
    )


def _give_up(batch: Batch, deps: WorkerDeps, error: Exception, kind: str) -> None:
    """Tell the client once and release the batch; if even that can't be sent, keep the batch."""
    try:
        deps.sender.send_text(
            batch.company_id, batch.chat, FRIENDLY_FAILURE_MESSAGE, idempotency_key(batch.id, "failed")
        )
    except Exception as send_error:  # the gateway or WhatsApp may be the thing that is down
        delay = UNDELIVERED_RETRY_SECONDS[kind]
        log.error(
            "Failed to send the apology; the batch is kept and tried again",
            error=str(send_error),
            retry_in_seconds=delay,
        )
        deps.reschedule(batch.company_id, batch.chat, delay)
        return
    deps.batches.finish(batch)
    log.error("Batch given up after an apology; the job goes to the failed registry", error=str(error))
