"""Sends through WhatsAppSession: one idempotency key, one message, however the calls interleave."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.wa_gateway.journal import Journal
from services.wa_gateway.session import WhatsAppSession
from services.wa_gateway.settings import GatewaySettings
from services.wa_gateway.transport.base import SentMessage, TransportEvent, TransportEventType, WhatsAppMessage
from services.wa_gateway.transport.simulator import SimulatorTransport
from shared.errors import WhatsAppRefused
from shared.phones import normalize_chat
from shared.wire import BatchedWebhook, SessionEvent

CLIENT = "79001234567"


class FlakySimulator(SimulatorTransport):
    """The first send fails after a while, as a send does when WhatsApp times out."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir, "79990000000")
        self.calls = 0

    async def send_text(self, phone: str, text: str) -> SentMessage:
        self.calls += 1
        await asyncio.sleep(0.2)  # every send takes a while, as it does when it waits for WhatsApp's ack
        if self.calls == 1:
            raise TimeoutError("timed out waiting for message send response")
        return await super().send_text(phone, text)


async def noop_publish(_event: SessionEvent) -> None:
    return None


async def test_concurrent_sends_with_one_key_send_once_even_when_the_first_fails(tmp_path: Path) -> None:
    settings = GatewaySettings(DATA_DIR=str(tmp_path))
    transport = FlakySimulator(tmp_path)
    journal = Journal(tmp_path / "journal.sqlite")
    session = WhatsAppSession(settings, transport, journal, lambda: None, noop_publish)
    await transport.connect()
    try:

        async def send() -> tuple[SentMessage, bool] | Exception:
            try:
                return await session.send_text(CLIENT, "hello", "batch-0")
            except WhatsAppRefused as error:
                return error

        first = asyncio.create_task(send())
        await asyncio.sleep(0.05)
        waiting = [asyncio.create_task(send()) for _ in range(2)]
        await asyncio.sleep(0.25)  # the first send has failed; the next waiter is sending now
        arriving = asyncio.create_task(send())
        results = await asyncio.gather(first, *waiting, arriving)
        late = await send()

        assert isinstance(results[0], WhatsAppRefused)
        assert [item.text for item in await transport.outbox(CLIENT)] == ["hello"]
        message_ids = {result[0].message_id for result in [*results[1:], late] if isinstance(result, tuple)}
        assert len(message_ids) == 1
    finally:
        journal.close()
        transport.close()


async def test_what_the_gateway_journals_is_what_the_api_accepts(tmp_path: Path) -> None:
    settings = GatewaySettings(DATA_DIR=str(tmp_path))
    transport = SimulatorTransport(tmp_path, "79990000000")
    journal = Journal(tmp_path / "journal.sqlite")
    session = WhatsAppSession(settings, transport, journal, lambda: None, noop_publish)
    try:
        message = WhatsAppMessage(
            chat="120363012345678901",
            sender=CLIENT,
            message_id="3EB0CONTROL",
            text="при\x00вет\x07\nстрока",
            timestamp_ms=1,
            push_name="Аня\x1b",
            is_group=True,
        )
        await session.handle_event(TransportEvent(TransportEventType.MESSAGE, message=message))
        [entry] = journal.pending(10)
        assert entry.message.message == "привет\nстрока"
        assert entry.message.push_name == "Аня"
        assert entry.message.from_ == "120363012345678901@g.us"
        webhook = BatchedWebhook.model_validate_json(BatchedWebhook(messages=[entry.message]).to_json())
        assert normalize_chat(webhook.messages[0].from_) == "120363012345678901@g.us"
    finally:
        journal.close()
        transport.close()
