"""Every Redis key, channel and queue name the project uses, in one place.

Every key starts with ``ai-admin:`` followed by the original's name for it (``rapid-fire``,
``dialog``...), so ``redis-cli --scan --pattern 'ai-admin:*'`` lists all of the project's state
and nothing of anyone else's. Two names are not keys and keep the original's spelling: the
pub/sub channels ``whatsapp:events``/``whatsapp:health`` and the RQ queue ``company-<id>-messages``
(RQ stores it under its own ``rq:`` prefix).

A key's docstring says who writes it, who reads it and why its TTL is what it is.
"""

from __future__ import annotations

import hashlib

KEY_PREFIX = "ai-admin"


def _key(*parts: str | int) -> str:
    return ":".join([KEY_PREFIX, *map(str, parts)])


EVENTS_CHANNEL = "whatsapp:events"
"""Pub/sub: the gateway publishes connected/replaced/logged_out; the api logs them (original's channel)."""

HEALTH_CHANNEL = "whatsapp:health"
"""Pub/sub: answers to ``{type: ping}`` probes published on EVENTS_CHANNEL (original's channel)."""

SEEN_TTL_SECONDS = 7 * 24 * 3600
"""How long a WhatsApp message id is remembered for deduplication.

Longer than any journal backlog the gateway could replay after an outage.
"""

BUFFER_TTL_SECONDS = 7 * 24 * 3600
"""Safety net only: a buffer is normally drained within seconds; the TTL never drops live data."""


def inbound_queue_name(company_id: str) -> str:
    """RQ queue of flush jobs for one company (the original's ``company-{id}-messages``)."""
    return f"company-{company_id}-messages"


def chat_token(company_id: str, chat: str) -> str:
    """A short stable token for a chat, safe inside RQ job ids (``[A-Za-z0-9_-]`` only)."""
    return hashlib.sha256(f"{company_id}:{chat}".encode()).hexdigest()[:20]


def seen(company_id: str, message_id: str) -> str:
    """SET NX marker: this WhatsApp message id has been stored once already."""
    return _key("wa", "seen", company_id, message_id)


def buffer(company_id: str, chat: str) -> str:
    """LIST of messages waiting for the chat's batch window to close (original: ``rapid-fire:{phone}``)."""
    return _key("rapid-fire", company_id, chat)


def due_chats(company_id: str) -> str:
    """ZSET chat -> Redis-clock ms when its buffer is due for a flush. The api's ingest and the worker's
    reschedules write it; the worker's dispatcher removes a chat as it enqueues its flush job. One member per
    chat with something to answer, so it stays as small as the set of active chats: no TTL needed."""
    return _key("flush", "due", company_id)


def flush_wakeup(company_id: str) -> str:
    """LIST of at most one token: pushed with every change to the due set, popped (BLPOP) by a dispatcher
    so a chat due now is dispatched at once instead of at the next poll."""
    return _key("flush", "wakeup", company_id)


def last_message(company_id: str, chat: str) -> str:
    """Redis-clock ms of the chat's newest buffered message (original: ``last-msg:{phone}``)."""
    return _key("last-msg", company_id, chat)


def inflight(company_id: str, chat: str) -> str:
    """HASH {id, messages}: the batch a worker has taken and not yet answered.

    It survives a worker crash, so the retried job answers the same batch with the same
    idempotency keys instead of losing it or answering twice.
    """
    return _key("batch", "inflight", company_id, chat)


def chat_lock(company_id: str, chat: str) -> str:
    """SET NX PX: held while one worker answers a chat, so a chat's batches never overlap."""
    return _key("chat-lock", company_id, chat)


def reply_budget(company_id: str, chat: str, hour: int) -> str:
    """SET of batch ids answered by the AI for a chat in one clock hour (unix hours).

    A set, not a counter, so a retried job doesn't spend the budget twice.
    """
    return _key("reply-budget", company_id, chat, hour)


def gateway_lease(company_id: str) -> str:
    """SET NX EX: the one process allowed to own this company's WhatsApp session."""
    return _key("wa", "lease", company_id)


def yclients_rate(company_id: str, window: str) -> str:
    """ZSET of request timestamps in one rate window (``second`` or ``minute``), shared by every process.

    YClients allows 5 requests a second and 200 a minute per IP; the api and the worker count together.
    """
    return _key("yclients", "rate", company_id, window)


DIALOG_TTL_SECONDS = 24 * 3600
MESSAGES_TTL_SECONDS = 24 * 3600
MESSAGES_KEPT = 50
CLIENT_TTL_SECONDS = 7 * 24 * 3600
PREFERENCES_TTL_SECONDS = 90 * 24 * 3600


def dialog(company_id: str, phone: str) -> str:
    """JSON: the conversation's state (selection, offered times, pending question); the original's key, 24 h."""
    return _key("dialog", company_id, "whatsapp", phone)


def messages(company_id: str, phone: str) -> str:
    """LIST (newest first) of the last 50 turns, client's and ours, as JSON; the original's key, 24 h."""
    return _key("messages", company_id, "whatsapp", phone)


def client(company_id: str, phone: str) -> str:
    """JSON: the client's name, when we last greeted them and asked "Чем ещё могу помочь?"; 7 days."""
    return _key("client", company_id, "whatsapp", phone)


def preferences(company_id: str, phone: str) -> str:
    """JSON: the client's usual staff member, service and language; 90 days."""
    return _key("preferences", company_id, "whatsapp", phone)


def client_memory(company_id: str, phone: str) -> list[str]:
    """Every key that remembers something about one client: deleted when they ask to be forgotten."""
    return [
        dialog(company_id, phone),
        messages(company_id, phone),
        client(company_id, phone),
        preferences(company_id, phone),
    ]


LEDGER_TTL_SECONDS = 7 * 24 * 3600
"""Longer than any retry of a batch (RQ retries, abandoned-job recovery, a kept batch)."""


def turn_ledger(company_id: str, batch_id: str) -> str:
    """HASH intent -> JSON: each side effect a batch's turn started or finished at the booking backend.

    Written before the backend is called, so a retried turn checks the backend instead of booking,
    cancelling or moving twice.
    """
    return _key("turn-ledger", company_id, batch_id)


def yclients_cache(company_id: str, what: str) -> str:
    """JSON, expiring after YCLIENTS_CACHE_SECONDS: the company, services or staff (with what each does) from YClients.

    Shared by every process: the api and each worker process read the same answers.
    """
    return _key("yclients", "cache", company_id, what)


AI_FALLBACKS_KEPT_SECONDS = 24 * 3600
"""The longest window ALERT_AI_FALLBACK_MINUTES may ask about; older fallbacks are trimmed on each write."""
ALERT_OUTBOX_TTL_SECONDS = 7 * 24 * 3600
"""Alerts a broken receiver never took are dropped after a week rather than kept forever."""


def ai_fallbacks(company_id: str) -> str:
    """ZSET of turns answered by the embedded provider because the LLM failed or was not believed, scored by
    unix time; the worker adds one per such turn, the api's alert monitor counts the recent ones."""
    return _key("ai", "fallbacks", company_id)


def alert_state(company_id: str) -> str:
    """HASH condition -> JSON: since when each alert condition holds, whether it was notified and when.

    In Redis, not in the api's memory, so a restarted api neither alerts twice nor forgets to say "resolved".
    """
    return _key("alerts", "state", company_id)


def alert_outbox(company_id: str, channel: str) -> str:
    """LIST of alert JSON not yet delivered to one channel (``webhook``, ``telegram``), oldest first.

    An alert stays here until its receiver accepts it, so a receiver that is down gets it on a later check.
    """
    return _key("alerts", "outbox", company_id, channel)


def alert_lock(company_id: str) -> str:
    """SET NX PX: the one api instance that checks conditions and sends alerts."""
    return _key("alerts", "lock", company_id)


def alert_checks(company_id: str) -> str:
    """HASH {checks, checkedAt}: how many times the alert monitor has checked, and when it last did."""
    return _key("alerts", "checks", company_id)


# --- reminders and notices of the salon's changes (shared/reminders, shared/visits, services/scheduler) ---


def notices_queue_name(company_id: str) -> str:
    """RQ queue of reminder and notice jobs, one job per message, filled by the scheduler.

    Apart from the chats' queue, which the worker serves first: a client waiting for an answer comes before a
    reminder that is due any time in its window.
    """
    return f"company-{company_id}-notices"


VISIT_EXPECTATION_TTL_SECONDS = 2 * 24 * 3600
"""Longer than the scheduler is expected to be down: past it, a change the receptionist made looks like the salon's."""
REMINDER_CONTEXT_TTL_SECONDS = 24 * 3600
HOOK_SEEN_TTL_SECONDS = 5 * 60
"""The original's YClients webhook debouncer: the same event within five minutes is one event."""
HOOK_INBOX_KEPT = 10_000
"""A scheduler that is down for long can't make the inbox grow without bound: polling finds those changes too."""


def visits(company_id: str) -> str:
    """HASH visit id -> JSON: every upcoming visit as the scheduler last saw it (time, master, status, phone).

    What a change is compared with: a visit the salon moved has another time here. Written by the scheduler only.
    """
    return _key("visits", company_id)


def visits_cursor(company_id: str) -> str:
    """JSON {since, baselineAt}: where the scheduler's change polling goes on from, and when it first looked."""
    return _key("visits", "cursor", company_id)


def visit_expectation(company_id: str, visit_id: int) -> str:
    """JSON: the change the receptionist is about to make to a visit (its new time, or cancelled).

    Written by the worker before it calls the backend, so the scheduler knows the change it then sees is the
    client's own (they already have the reply) and sends no notice; deleted when the scheduler has seen it.
    """
    return _key("visits", "expected", company_id, visit_id)


def notice_planned(company_id: str, notice_key: str) -> str:
    """SET NX with a TTL past the visit: this reminder or notice has been queued once, never again."""
    return _key("notices", "planned", company_id, notice_key)


def reminder_context(company_id: str, chat: str) -> str:
    """JSON: the last reminder sent to a chat (which visit, when), so a "да" within minutes confirms that visit.

    The original's ``reminder_context:{phone}``, 24 hours; written by the worker after the reminder was sent.
    """
    return _key("reminder-context", company_id, chat)


def yclients_hook_inbox(company_id: str) -> str:
    """LIST of YClients record ids from the webhook (api) for the scheduler, which blocks on it between polls."""
    return _key("yclients", "hooks", company_id)


def yclients_hook_seen(company_id: str, digest: str) -> str:
    """SET NX EX: this webhook event (by its body's hash) was taken in the last five minutes."""
    return _key("yclients", "hook-seen", company_id, digest)


def scheduler_lock(company_id: str) -> str:
    """SET NX PX: the one scheduler that polls and queues reminders; another one started by mistake waits."""
    return _key("scheduler", "lock", company_id)
