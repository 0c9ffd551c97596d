"""Sending through the one session: once per idempotency key, and never while disconnected.

A retried reply carries the key of its first attempt; the journal remembers which keys were sent,
so the client gets the message once however the worker, the api or the network repeat it.
Sending never creates or reconnects a session.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from services.wa_gateway.journal import Journal
from services.wa_gateway.state import SessionState
from services.wa_gateway.transport.base import SentMessage, Transport
from shared.blocking import run_blocking
from shared.errors import AiAdminError, WhatsAppNotConnected, WhatsAppRefused
from shared.logging import get_logger
from shared.metrics import GATEWAY_SEND_SECONDS

log = get_logger(__name__)

T = TypeVar("T")
SendKind = Literal["text", "reaction", "typing"]


@dataclass
class _KeyLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class SessionSender:
    def __init__(self, transport: Transport, journal: Journal, state: SessionState) -> None:
        self._transport = transport
        self._journal = journal
        self._state = state
        self._locks: dict[str, _KeyLock] = {}

    async def send_text(self, chat: str, text: str, idempotency_key: str | None) -> tuple[SentMessage, bool]:
        """Send once per idempotency key; returns (message, was_duplicate)."""
        return await self._once(idempotency_key, chat, lambda: self._transport.send_text(chat, text), kind="text")

    async def send_reaction(
        self, phone: str, message_id: str, emoji: str, idempotency_key: str | None
    ) -> tuple[SentMessage, bool]:
        """React once per idempotency key, like a reply part; returns (message, was_duplicate)."""
        return await self._once(
            idempotency_key, phone, lambda: self._transport.send_reaction(phone, message_id, emoji), kind="reaction"
        )

    async def send_typing(self, phone: str, composing: bool) -> None:
        await self._call(lambda: self._transport.send_typing(phone, composing), kind="typing")

    async def _once(
        self, idempotency_key: str | None, chat: str, send: Callable[[], Awaitable[SentMessage]], *, kind: SendKind
    ) -> tuple[SentMessage, bool]:
        if idempotency_key is None:
            return await self._call(send, kind=kind), False
        # One lock per key, kept while anyone holds or awaits it, so same-key sends never overlap.
        entry = self._locks.setdefault(idempotency_key, _KeyLock())
        entry.users += 1
        try:
            async with entry.lock:
                existing = await run_blocking(self._journal.sent_message_id, idempotency_key)
                if existing is not None:
                    log.info("Repeated send suppressed", idempotency_key=idempotency_key, message_id=existing)
                    return SentMessage(message_id=existing, timestamp=int(time.time())), True
                sent = await self._call(send, kind=kind)
                await run_blocking(self._journal.record_sent, idempotency_key, sent.message_id, chat)
                return sent, False
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._locks[idempotency_key]

    async def _call(self, send: Callable[[], Awaitable[T]], *, kind: SendKind) -> T:
        """Text messages are the only kind the health metrics count; every kind is timed."""
        counted = kind == "text"
        if not self._state.connected:
            raise WhatsAppNotConnected(f"WhatsApp is not connected (status: {self._state.status})")
        started = time.perf_counter()
        try:
            result = await send()
        except Exception as error:
            GATEWAY_SEND_SECONDS.labels(kind, "failed").observe(time.perf_counter() - started)
            if counted:
                self._state.metrics.errors += 1
                self._state.metrics.last_error = str(error)
            if isinstance(error, AiAdminError):
                raise
            # The transport's own failure (a library error, a timeout it did not classify): WhatsApp said no.
            raise WhatsAppRefused(f"WhatsApp refused: {type(error).__name__}: {error}") from error
        GATEWAY_SEND_SECONDS.labels(kind, "sent").observe(time.perf_counter() - started)
        if counted:
            self._state.metrics.messages_sent += 1
        return result
