"""Every Redis key, channel and queue name the project uses, in one place.

A key's docstring says who writes it, who reads it and why its TTL is what it is.
"""

from __future__ import annotations

import hashlib

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
    return f"wa:seen:{company_id}:{message_id}"


def buffer(company_id: str, chat: str) -> str:
    """LIST of messages waiting for the chat's batch window to close (original: ``rapid-fire:{phone}``)."""
    return f"rapid-fire:{company_id}:{chat}"


def last_message(company_id: str, chat: str) -> str:
    """Redis-clock ms of the chat's newest buffered message (original: ``last-msg:{phone}``)."""
    return f"last-msg:{company_id}:{chat}"


def inflight(company_id: str, chat: str) -> str:
    """HASH {id, messages}: the batch a worker has taken and not yet answered.

    It survives a worker crash, so the retried job answers the same batch with the same
    idempotency keys instead of losing it or answering twice.
    """
    return f"batch:inflight:{company_id}:{chat}"


def chat_lock(company_id: str, chat: str) -> str:
    """SET NX PX: held while one worker answers a chat, so a chat's batches never overlap."""
    return f"chat-lock:{company_id}:{chat}"


def reply_budget(company_id: str, chat: str, hour: int) -> str:
    """SET of batch ids answered by the AI for a chat in one clock hour (unix hours).

    A set, not a counter, so a retried job doesn't spend the budget twice.
    """
    return f"reply-budget:{company_id}:{chat}:{hour}"


def gateway_lease(company_id: str) -> str:
    """SET NX EX: the one process allowed to own this company's WhatsApp session."""
    return f"wa:lease:{company_id}"
