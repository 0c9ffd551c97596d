"""An in-process stand-in for the WhatsApp network, the default transport.

It lets a fresh ``make run`` and the test suite exercise the whole pipeline with no phone and
no network. What the gateway "sends to WhatsApp" is kept in a SQLite outbox under DATA_DIR, so
it survives gateway restarts and a test can prove a reply was sent exactly once.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.wa_gateway.transport.base import (
    EventHandler,
    IncomingReaction,
    SentMessage,
    TransportEvent,
    TransportEventType,
    WhatsAppMessage,
)
from shared.blocking import run_blocking
from shared.errors import WhatsAppNotConnected
from shared.sqlite import SqliteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    phone TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT,
    emoji TEXT,
    target_message_id TEXT,
    timestamp REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_phone ON outbox(phone);
"""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: str
    to: str
    kind: str
    text: str | None
    emoji: str | None
    timestamp: float
    target_message_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"id": self.id, "to": self.to, "kind": self.kind, "timestamp": self.timestamp}
        if self.kind == "text":
            item["text"] = self.text
        else:
            item["emoji"] = self.emoji
            item["messageId"] = self.target_message_id
        return item


def new_message_id() -> str:
    """WhatsApp-like ids: ``3EB0`` and 16 upper-case hex digits."""
    return "3EB0" + secrets.token_hex(8).upper()


class SimulatorTransport:
    name = "simulator"
    reconnects_after_disconnect = False

    def __init__(self, data_dir: Path, own_phone: str, send_delay_seconds: float = 0.0) -> None:
        self._store = SqliteStore(data_dir / "simulator.sqlite", _SCHEMA)
        self._own_phone = own_phone
        self._send_delay = send_delay_seconds
        """SIMULATOR_SEND_DELAY_SECONDS: WhatsApp taking its time to accept a send, for tests that kill mid-send."""
        self._handler: EventHandler | None = None
        self._connected = False
        self._waiting_inbound: list[WhatsAppMessage] = []

    @property
    def own_phone(self) -> str | None:
        return self._own_phone

    @property
    def connected(self) -> bool:
        return self._connected

    def set_event_handler(self, handler: EventHandler) -> None:
        self._handler = handler

    async def _emit(self, event: TransportEvent) -> None:
        if self._handler is not None:
            await self._handler(event)

    async def connect(self) -> None:
        self._connected = True
        await self._emit(TransportEvent(TransportEventType.CONNECTED, phone_number=self._own_phone))
        # WhatsApp holds messages for an offline device and delivers them on reconnect.
        waiting, self._waiting_inbound = self._waiting_inbound, []
        for message in waiting:
            await self._emit(TransportEvent(TransportEventType.MESSAGE, message=message))

    async def stop(self) -> None:
        self._connected = False

    def close(self) -> None:
        self._store.close()

    async def send_text(self, phone: str, text: str) -> SentMessage:
        return await self._record(phone, "text", text=text)

    async def send_reaction(self, phone: str, message_id: str, emoji: str) -> SentMessage:
        return await self._record(phone, "reaction", emoji=emoji, target=message_id)

    async def send_typing(self, phone: str, composing: bool) -> None:
        if not self._connected:
            raise WhatsAppNotConnected("WhatsApp is not connected")

    async def _record(
        self,
        phone: str,
        kind: str,
        text: str | None = None,
        emoji: str | None = None,
        target: str | None = None,
    ) -> SentMessage:
        if not self._connected:
            raise WhatsAppNotConnected("WhatsApp is not connected")
        if self._send_delay:
            await asyncio.sleep(self._send_delay)
        message_id = new_message_id()
        now = time.time()

        def write() -> None:
            with self._store.transaction() as db:
                db.execute(
                    "INSERT INTO outbox (id, phone, kind, text, emoji, target_message_id, timestamp)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (message_id, phone, kind, text, emoji, target, now),
                )

        await run_blocking(write)
        return SentMessage(message_id=message_id, timestamp=int(now))

    # --- the simulator's own controls, served under /simulator/* ---

    async def inbound(self, sender: str, text: str, push_name: str | None, message_id: str | None) -> WhatsAppMessage:
        message = WhatsAppMessage(
            chat=sender,
            sender=sender,
            message_id=message_id or new_message_id(),
            text=text,
            timestamp_ms=int(time.time() * 1000),
            push_name=push_name,
            from_me=sender == self._own_phone,
        )
        if self._connected:
            await self._emit(TransportEvent(TransportEventType.MESSAGE, message=message))
        else:
            self._waiting_inbound.append(message)
        return message

    async def salon_writes(self, chat: str, text: str) -> WhatsAppMessage:
        """Someone at the salon writes to a client from the salon's own phone: WhatsApp's "fromMe" message."""
        message = WhatsAppMessage(
            chat=chat,
            sender=self._own_phone,
            message_id=new_message_id(),
            text=text,
            timestamp_ms=int(time.time() * 1000),
            from_me=True,
        )
        await self._emit(TransportEvent(TransportEventType.MESSAGE, message=message))
        return message

    async def reaction(self, sender: str, emoji: str, message_id: str) -> None:
        reaction = IncomingReaction(sender, message_id, emoji, int(time.time() * 1000))
        await self._emit(TransportEvent(TransportEventType.REACTION, reaction=reaction))

    async def network_event(self, kind: str, qr: str | None = None) -> None:
        if kind == "connected":
            await self.connect()
            return
        self._connected = False
        if kind == "qr":
            # What an unpaired device sees: WhatsApp offers a QR code to scan; a new one replaces the last.
            code = qr or f"2@simulated-{secrets.token_hex(8)}"
            await self._emit(TransportEvent(TransportEventType.QR, qr=code))
            return
        event_type = {
            "disconnected": TransportEventType.DISCONNECTED,
            "stream_replaced": TransportEventType.REPLACED,
            "logged_out": TransportEventType.LOGGED_OUT,
        }[kind]
        await self._emit(TransportEvent(event_type, reason=f"simulated {kind}"))

    async def outbox(self, phone: str | None) -> list[OutboxItem]:
        def read() -> list[OutboxItem]:
            with self._store.reading() as db:
                query = "SELECT id, phone, kind, text, emoji, timestamp, target_message_id FROM outbox"
                params: tuple[str, ...] = ()
                if phone:
                    query += " WHERE phone = ?"
                    params = (phone,)
                rows = db.execute(query + " ORDER BY seq", params).fetchall()
            return [OutboxItem(*row) for row in rows]

        return await run_blocking(read)
