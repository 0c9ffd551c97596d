"""The gateway's one WhatsApp session: status, metrics, the connection policy and sending.

Health is passive: status changes only when the transport reports an event. Nothing here ever
probes the connection, and sending never creates or reconnects a session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from services.wa_gateway.journal import Journal
from services.wa_gateway.lease import SessionLease
from services.wa_gateway.policy import CONNECTION_POLICY, Action, reconnect_delay
from services.wa_gateway.settings import GatewaySettings
from services.wa_gateway.transport.base import (
    IncomingMessage,
    IncomingReaction,
    SentMessage,
    Transport,
    TransportEvent,
    TransportEventType,
)
from shared.blocking import run_blocking
from shared.errors import WhatsAppNotConnected
from shared.logging import bound, get_logger
from shared.phones import GROUP_SUFFIX, without_control_characters

log = get_logger(__name__)

Publisher = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Metrics:
    messages_sent: int = 0
    messages_received: int = 0
    errors: int = 0
    failed_reconnects: int = 0
    qr_codes_generated: int = 0
    last_error: str | None = None

    def as_json(self, connected: bool) -> dict[str, Any]:
        return {
            "totalSessions": 1,
            "activeConnections": 1 if connected else 0,
            "messagesSent": self.messages_sent,
            "messagesReceived": self.messages_received,
            "errors": self.errors,
            "failedReconnects": self.failed_reconnects,
            "qrCodesGenerated": self.qr_codes_generated,
            "lastError": self.last_error,
        }


@dataclass
class SessionState:
    status: str = "starting"
    connected: bool = False
    phone_number: str | None = None
    reason: str | None = None
    qr: str | None = None
    ban_expires_at: int | None = None
    """Unix seconds when a temporary ban ends, as WhatsApp reported it."""
    since: float = field(default_factory=time.time)


@dataclass
class _KeyLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class WhatsAppSession:
    def __init__(
        self,
        settings: GatewaySettings,
        transport: Transport,
        journal: Journal,
        on_journalled: Callable[[], None],
        publish: Publisher,
        lease: SessionLease | None = None,
        on_reaction: Callable[[IncomingReaction], None] | None = None,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.journal = journal
        self.state = SessionState()
        self.metrics = Metrics()
        self._on_journalled = on_journalled
        self._publish = publish
        self._on_reaction_received = on_reaction or (lambda _reaction: None)
        self._lease = lease
        """None only in unit tests that drive a transport directly; every process passes one."""
        self._connect_task: asyncio.Task[None] | None = None
        self._lease_task: asyncio.Task[None] | None = None
        self._send_locks: dict[str, _KeyLock] = {}
        self._stopping = False
        self._halted = False
        """Set by a replaced/logged-out/banned/outdated event: nothing but an operator reconnects."""
        self._failed_attempts = 0
        """Consecutive failures since the last CONNECTED; drives the backoff, never a tight loop."""
        transport.set_event_handler(self.handle_event)

    # --- lifecycle ---

    def start(self) -> None:
        """Take the lease, then connect with backoff, in the background; the HTTP server is up meanwhile."""
        self._stopping = False
        if self._halted:
            return
        if self._connect_task is None or self._connect_task.done():
            self._connect_task = asyncio.create_task(self._own_then_connect(), name="wa-connect")

    async def _own_then_connect(self) -> None:
        if self._lease is not None:
            await self._wait_for_lease(self._lease)
            if self._lease_task is None or self._lease_task.done():
                self._lease_task = asyncio.create_task(self._keep_lease(self._lease), name="wa-lease")
        await self._connect_with_backoff()

    async def _wait_for_lease(self, lease: SessionLease) -> None:
        """Standby until no one else owns this number. Polls Redis, never WhatsApp."""
        announced = False
        while True:
            try:
                if await lease.renew():
                    if announced:
                        log.info("Lease acquired; this process now owns the WhatsApp session")
                    return
                holder = await lease.holder()
                reason = f"another process owns this WhatsApp number: {holder.process if holder else 'unknown'}"
            except Exception as error:  # Redis down or a corrupt lease: either way ownership is unproven
                reason = f"Redis unreachable, so ownership can't be checked: {error}"
            self._set(status="standby", connected=False, reason=reason)
            if not announced:
                log.warning("Standby: not connecting to WhatsApp", reason=reason, company_id=self.settings.company_id)
                announced = True
            await asyncio.sleep(lease.ttl_ms / 1000 / 3)

    async def _keep_lease(self, lease: SessionLease) -> None:
        """Renew while we own the number; if it can't be renewed, stop before anyone else can take it."""
        interval = lease.ttl_ms / 1000 / 3
        # Give up well before the lease can expire and be taken by someone else, even if a renewal hangs.
        give_up_after = lease.ttl_ms / 1000 * 0.6
        last_renewed = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            remaining = last_renewed + give_up_after - time.monotonic()
            try:
                if await asyncio.wait_for(lease.renew(), timeout=max(remaining, 0.05)):
                    last_renewed = time.monotonic()
                    continue
                reason = "another process took over the lease"
            except Exception as error:  # any failure to renew counts; a dead renewer would let a second owner in
                if time.monotonic() - last_renewed < give_up_after:
                    continue
                reason = f"Redis unreachable, ownership can't be proven: {type(error).__name__} {error}"
            log.error("Stopping the WhatsApp session: lease lost", reason=reason, company_id=self.settings.company_id)
            await self._stop_connect_task()
            await self.transport.stop()
            self._lease_task = None
            if self._halted:
                return  # replaced or logged out: keep saying so; only an operator resumes
            self._set(status="standby", connected=False, reason=reason)
            self.start()
            return

    async def _connect_with_backoff(self) -> None:
        while not self._stopping:
            if self._failed_attempts:
                delay = self._next_delay()
                log.info(
                    "Reconnecting to WhatsApp after backoff",
                    retry_in_seconds=round(delay, 1),
                    failed_reconnects=self._failed_attempts,
                    company_id=self.settings.company_id,
                )
                await asyncio.sleep(delay)
            self._set(status="connecting", connected=False)
            try:
                await self.transport.connect()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure to connect is retried; only events stop us
                self._record_failure(str(error))

    def _next_delay(self) -> float:
        return reconnect_delay(
            self._failed_attempts - 1, self.settings.reconnect_min_seconds, self.settings.reconnect_max_seconds
        )

    def _record_failure(self, reason: str) -> None:
        self._failed_attempts += 1
        self.metrics.failed_reconnects += 1
        self.metrics.last_error = reason
        self._set(status="disconnected", connected=False, reason=reason)
        log.warning(
            "WhatsApp connect failed; retrying with backoff",
            error=reason,
            failed_reconnects=self.metrics.failed_reconnects,
            company_id=self.settings.company_id,
        )

    async def reconnect(self) -> None:
        """Operator action: stop whatever is left and connect again."""
        await self._stop_connect_task()
        await self.transport.stop()
        self._failed_attempts = 0
        self._halted = False
        log.info("Reconnect requested by operator", company_id=self.settings.company_id)
        self.start()

    async def stop(self) -> None:
        self._stopping = True
        await self._stop_connect_task()
        if self._lease_task is not None:
            self._lease_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lease_task
        await self.transport.stop()
        self._set(status="stopped", connected=False)
        if self._lease is not None:
            try:
                await self._lease.release()
            except redis.RedisError as error:
                log.warning("Could not release the lease; it expires by itself", error=str(error))

    async def _stop_connect_task(self) -> None:
        if self._connect_task is not None and not self._connect_task.done():
            self._connect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connect_task
        self._connect_task = None

    def _set(self, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(self.state, key, value)
        self.state.since = time.time()

    # --- events from the transport ---

    async def handle_event(self, event: TransportEvent) -> None:
        if event.type is TransportEventType.MESSAGE and event.message is not None:
            await self._journal_message(event.message)
            return
        if event.type is TransportEventType.REACTION and event.reaction is not None:
            self._on_reaction(event.reaction)
            return
        if event.type is TransportEventType.QR:
            self.metrics.qr_codes_generated += 1
            self._set(status="qr", qr=event.qr)
            return
        rule = CONNECTION_POLICY.get(event.type)
        if event.type is TransportEventType.CONNECTED:
            self._failed_attempts = 0
        if event.type is TransportEventType.CONNECT_FAILED:
            self._failed_attempts += 1
            self.metrics.failed_reconnects += 1
        if rule is None:
            log.info("WhatsApp event", wa_event=event.type.value, company_id=self.settings.company_id)
            return
        phone = event.phone_number or self.state.phone_number
        self._set(
            status=rule.status,
            connected=rule.connected,
            reason=event.reason,
            phone_number=phone,
            qr=None,
            ban_expires_at=event.expires_at if event.type is TransportEventType.TEMPORARY_BAN else None,
        )
        if not rule.connected:
            self.metrics.last_error = f"{rule.status}: {event.reason or ''}".strip(": ")
        getattr(log, rule.level)(
            rule.log, wa_event=event.type.value, reason=event.reason, company_id=self.settings.company_id
        )
        if rule.action is Action.STOP:
            self._halted = True
            await self.transport.stop()
        elif rule.action is Action.RECONNECT and not (
            event.type is TransportEventType.DISCONNECTED and self.transport.reconnects_after_disconnect
        ):
            self.start()
        if rule.publish:
            await self._publish(
                {
                    "type": rule.publish,
                    "companyId": self.settings.company_id,
                    "phoneNumber": phone,
                    "reason": event.reason,
                    "timestamp": int(time.time() * 1000),
                }
            )

    def _on_reaction(self, reaction: IncomingReaction) -> None:
        with bound(company_id=self.settings.company_id, chat=reaction.sender, message_id=reaction.message_id):
            log.info("Reaction from", emoji=reaction.emoji)
        self._on_reaction_received(reaction)

    async def _journal_message(self, message: IncomingMessage) -> None:
        with bound(company_id=self.settings.company_id, chat=message.chat, message_id=message.message_id):
            if message.from_me or message.chat == self.transport.own_phone:
                log.debug("Skipping the salon's own message")
                return
            payload = {
                # The api accepts exactly this, so nothing journalled here is refused there later.
                "from": f"{message.chat}{GROUP_SUFFIX}" if message.is_group else message.chat,
                "message": without_control_characters(message.text) or f"[{message.kind}]",
                "messageId": message.message_id,
                "timestamp": message.timestamp_ms,
                "type": message.kind,
                "pushName": without_control_characters(message.push_name) if message.push_name else None,
            }
            is_new = await run_blocking(self.journal.append, message.message_id, payload)
            if not is_new:
                log.info("Duplicate delivery from WhatsApp ignored")
                return
            self.metrics.messages_received += 1
            log.info("New message from", push_name=message.push_name, kind=message.kind, length=len(message.text))
            self._on_journalled()

    # --- sending ---

    async def send_text(self, phone: str, text: str, idempotency_key: str | None) -> tuple[SentMessage, bool]:
        """Send once per idempotency key; returns (message, was_duplicate)."""
        return await self._once(idempotency_key, phone, lambda: self._send_now(phone, text))

    async def _once(
        self, idempotency_key: str | None, phone: str, send: Callable[[], Awaitable[SentMessage]]
    ) -> tuple[SentMessage, bool]:
        if idempotency_key is None:
            return await send(), False
        # One lock per key, kept while anyone holds or awaits it, so same-key sends never overlap.
        entry = self._send_locks.setdefault(idempotency_key, _KeyLock())
        entry.users += 1
        try:
            async with entry.lock:
                existing = await run_blocking(self.journal.sent_message_id, idempotency_key)
                if existing is not None:
                    log.info("Repeated send suppressed", idempotency_key=idempotency_key, message_id=existing)
                    return SentMessage(message_id=existing, timestamp=int(time.time())), True
                sent = await send()
                await run_blocking(self.journal.record_sent, idempotency_key, sent.message_id, phone)
                return sent, False
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._send_locks[idempotency_key]

    async def _send_now(self, phone: str, text: str) -> SentMessage:
        if not self.state.connected:
            raise WhatsAppNotConnected(f"WhatsApp is not connected (status: {self.state.status})")
        try:
            sent = await self.transport.send_text(phone, text)
        except Exception as error:
            self.metrics.errors += 1
            self.metrics.last_error = str(error)
            raise
        self.metrics.messages_sent += 1
        return sent

    async def send_typing(self, phone: str, composing: bool) -> None:
        if not self.state.connected:
            raise WhatsAppNotConnected(f"WhatsApp is not connected (status: {self.state.status})")
        await self.transport.send_typing(phone, composing)

    async def send_reaction(
        self, phone: str, message_id: str, emoji: str, idempotency_key: str | None = None
    ) -> tuple[SentMessage, bool]:
        """React once per idempotency key, like a reply part; returns (message, was_duplicate)."""

        async def react() -> SentMessage:
            if not self.state.connected:
                raise WhatsAppNotConnected(f"WhatsApp is not connected (status: {self.state.status})")
            return await self.transport.send_reaction(phone, message_id, emoji)

        return await self._once(idempotency_key, phone, react)

    async def pair_phone(self, phone: str) -> str:
        """Operator action: start a fresh pairing if the session is not live, then request a code."""
        pair = getattr(self.transport, "pair_phone", None)
        if pair is None:
            raise NotImplementedError(
                f"pairing by code needs WA_TRANSPORT=neonize (this gateway uses {self.transport.name})"
            )
        if self.state.status in ("replaced", "logged_out", "qr_expired", "stopped", "banned", "outdated"):
            await self.reconnect()
        code: str = await pair(phone)
        log.info("Pairing code issued", phone=phone, company_id=self.settings.company_id)
        return code

    def health(self) -> dict[str, Any]:
        return {
            "status": self.state.status,
            "connected": self.state.connected,
            "phoneNumber": self.state.phone_number,
            "reason": self.state.reason,
            "banExpiresAt": self.state.ban_expires_at,
            "transport": self.transport.name,
            "metrics": self.metrics.as_json(self.state.connected),
        }


def encode_event(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False)
