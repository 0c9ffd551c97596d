"""The gateway's one WhatsApp session: status, metrics, the connection policy and sending.

Health is passive: status changes only when the transport reports an event. Nothing here ever
probes the connection, and sending never creates or reconnects a session.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis

from services.wa_gateway.inbound import InboundRecorder
from services.wa_gateway.journal import Journal
from services.wa_gateway.lease import SessionLease
from services.wa_gateway.ownership import LeaseKeeper
from services.wa_gateway.policy import CONNECTION_POLICY, Action
from services.wa_gateway.reachability import unreachable_reason
from services.wa_gateway.sending import SessionSender
from services.wa_gateway.settings import GatewaySettings
from services.wa_gateway.state import Metrics, SessionState
from services.wa_gateway.transport.base import (
    IncomingReaction,
    SentMessage,
    Transport,
    TransportEvent,
    TransportEventType,
)
from shared.backoff import backoff_delay
from shared.conversations import ConversationStore
from shared.errors import AiAdminError, Unsupported, WhatsAppNotConnected, WhatsAppRefused
from shared.logging import bound, get_logger
from shared.tasks import cancel_and_wait
from shared.wire import NEEDS_OPERATOR, SessionEvent, SessionStatus

log = get_logger(__name__)

Publisher = Callable[[SessionEvent], Awaitable[None]]


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
        conversations: ConversationStore | None = None,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.journal = journal
        self.state = SessionState()
        self._publish = publish
        self._on_reaction_received = on_reaction or (lambda _reaction: None)
        self._inbound = InboundRecorder(
            settings.company_id,
            journal,
            on_journalled,
            self.state.metrics,
            conversations,
            settings.human_takeover_minutes,
        )
        self._sender = SessionSender(transport, journal, self.state)
        self._owner = LeaseKeeper(lease, settings.company_id, self.state) if lease is not None else None
        """None only in unit tests that drive a transport directly; every process passes a lease."""
        self._connect_task: asyncio.Task[None] | None = None
        self._lease_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._halted = False
        """Set by a replaced/logged-out/banned/outdated event: nothing but an operator reconnects."""
        self._failed_attempts = 0
        """Consecutive failures since the last CONNECTED; drives the backoff, never a tight loop."""
        self._connect_calls = 0
        """transport.connect() calls so far: each after the first is a reconnect attempt."""
        transport.set_event_handler(self.handle_event)

    @property
    def metrics(self) -> Metrics:
        return self.state.metrics

    # --- lifecycle ---

    def start(self) -> None:
        """Take the lease, then connect with backoff, in the background; the HTTP server is up meanwhile."""
        self._stopping = False
        if self._halted:
            return
        if self._connect_task is None or self._connect_task.done():
            self._connect_task = asyncio.create_task(self._own_then_connect(), name="wa-connect")

    async def _own_then_connect(self) -> None:
        if self._owner is not None:
            await self._owner.wait_until_owned()
            if self._lease_task is None or self._lease_task.done():
                self._lease_task = asyncio.create_task(self._guard_ownership(self._owner), name="wa-lease")
        await self._connect_with_backoff()

    async def _guard_ownership(self, owner: LeaseKeeper) -> None:
        reason = await owner.keep()
        log.error("Stopping the WhatsApp session: lease lost", reason=reason, company_id=self.settings.company_id)
        await self._stop_connect_task()
        await self.transport.stop()
        self._lease_task = None
        if self._halted:
            return  # replaced or logged out: keep saying so; only an operator resumes
        self.state.set(status=SessionStatus.STANDBY, connected=False, reason=reason)
        self.start()

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
            self.state.set(status=SessionStatus.CONNECTING, connected=False)
            if self._connect_calls:
                self.metrics.reconnect_attempts += 1
            self._connect_calls += 1
            try:
                await self.transport.connect()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure to connect is retried; only events stop us
                self._record_failure(str(error))

    def _next_delay(self) -> float:
        return backoff_delay(
            self._failed_attempts - 1, self.settings.reconnect_min_seconds, self.settings.reconnect_max_seconds
        )

    def _record_failure(self, reason: str) -> None:
        self._failed_attempts += 1
        self.metrics.failed_reconnects += 1
        self.metrics.errors += 1
        self.metrics.last_error = reason
        self.state.set(status=SessionStatus.DISCONNECTED, connected=False, reason=reason)
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
            await cancel_and_wait(self._lease_task)
        await self.transport.stop()
        self.state.set(status=SessionStatus.STOPPED, connected=False)
        if self._owner is not None:
            try:
                await self._owner.release()
            except redis.RedisError as error:
                log.warning("Could not release the lease; it expires by itself", error=str(error))

    async def _stop_connect_task(self) -> None:
        if self._connect_task is not None and not self._connect_task.done():
            await cancel_and_wait(self._connect_task)
        self._connect_task = None

    # --- events from the transport ---

    async def handle_event(self, event: TransportEvent) -> None:
        if event.type is TransportEventType.MESSAGE and event.message is not None:
            await self._inbound.record(event.message, self.transport.own_phone)
            return
        if event.type is TransportEventType.REACTION and event.reaction is not None:
            await self._inbound.record_reaction(event.reaction)
            self._on_reaction(event.reaction)
            return
        if event.type is TransportEventType.QR:
            self.metrics.qr_codes_generated += 1
            self.state.set(status=SessionStatus.QR, qr=event.qr)
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
        self.state.set(
            status=rule.status,
            connected=rule.connected,
            reason=event.reason,
            phone_number=phone,
            qr=None,
            ban_expires_at=event.expires_at if event.type is TransportEventType.TEMPORARY_BAN else None,
        )
        if not rule.connected:
            self.metrics.last_error = f"{rule.status}: {event.reason or ''}".strip(": ")
        if rule.error:
            self.metrics.errors += 1
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
                SessionEvent(
                    type=rule.publish,
                    company_id=self.settings.company_id,
                    phone_number=phone,
                    reason=event.reason,
                    timestamp=int(time.time() * 1000),
                )
            )

    def _on_reaction(self, reaction: IncomingReaction) -> None:
        with bound(company_id=self.settings.company_id, chat=reaction.sender, message_id=reaction.message_id):
            log.info("Reaction from", emoji=reaction.emoji)
        self._on_reaction_received(reaction)

    # --- sending ---

    async def send_text(self, chat: str, text: str, idempotency_key: str | None) -> tuple[SentMessage, bool]:
        """Send once per idempotency key; returns (message, was_duplicate)."""
        return await self._sender.send_text(chat, text, idempotency_key)

    async def send_reaction(
        self, phone: str, message_id: str, emoji: str, idempotency_key: str | None = None
    ) -> tuple[SentMessage, bool]:
        return await self._sender.send_reaction(phone, message_id, emoji, idempotency_key)

    async def send_typing(self, phone: str, composing: bool) -> None:
        await self._sender.send_typing(phone, composing)

    async def pair_phone(self, phone: str) -> str:
        """Operator action: start a fresh pairing if the session is not live, then request a code."""
        pair = getattr(self.transport, "pair_phone", None)
        if pair is None:
            raise Unsupported(f"pairing by code needs WA_TRANSPORT=neonize (this gateway uses {self.transport.name})")
        self._raise_if_pairing_cannot_work()
        if self.state.status in NEEDS_OPERATOR:
            await self.reconnect()
        try:
            code: str = await pair(phone)
        except AiAdminError as error:
            log.warning("Pairing code not issued", error=str(error), company_id=self.settings.company_id)
            self._raise_if_pairing_cannot_work()  # the wait for a first QR may have ended in a failed dial
            raise
        except Exception as error:  # the library's own failure: WhatsApp did not give a code
            log.error("Pairing code not issued", error=f"{type(error).__name__}: {error}")
            raise WhatsAppRefused(f"WhatsApp refused the pairing request: {error}") from error
        log.info("Pairing code issued", phone=phone, company_id=self.settings.company_id)
        return code

    def _raise_if_pairing_cannot_work(self) -> None:
        """Say why when no code can come: WhatsApp is out of reach, or another process owns the number."""
        unreachable = unreachable_reason(self.state)
        if unreachable is not None:
            raise WhatsAppNotConnected(unreachable)
        if self.state.status is SessionStatus.STANDBY:
            raise WhatsAppNotConnected(
                f"this gateway is on standby ({self.state.reason}); pair through the process that owns the number"
            )

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
