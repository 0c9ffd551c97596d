"""What WhatsApp delivers is journalled as the api's wire model; what breaks the contract is kept as rejected."""

from __future__ import annotations

from pathlib import Path

from services.wa_gateway.inbound import InboundRecorder
from services.wa_gateway.journal import Journal
from services.wa_gateway.state import Metrics
from services.wa_gateway.transport.base import WhatsAppMessage

CLIENT = "79001234567"


def message(message_id: str, text: str = "Здравствуйте") -> WhatsAppMessage:
    return WhatsAppMessage(chat=CLIENT, sender=CLIENT, message_id=message_id, text=text, timestamp_ms=1)


async def test_a_message_is_journalled_once_and_wakes_the_forwarder(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    wakeups: list[int] = []
    metrics = Metrics()
    recorder = InboundRecorder("962302", journal, lambda: wakeups.append(1), metrics)
    try:
        await recorder.record(message("3EB0AAA"), own_phone="79990000000")
        await recorder.record(message("3EB0AAA"), own_phone="79990000000")
        [entry] = journal.pending(10)
        assert (entry.message.chat, entry.message.text) == (CLIENT, "Здравствуйте")
        assert wakeups == [1]
        assert metrics.messages_received == 1
    finally:
        journal.close()


async def test_a_message_breaking_the_wire_contract_is_kept_as_rejected_not_forwarded(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    wakeups: list[int] = []
    recorder = InboundRecorder("962302", journal, lambda: wakeups.append(1), Metrics())
    try:
        await recorder.record(message("an id with spaces"), own_phone=None)
        assert journal.pending(10) == []
        assert journal.backlog().rejected == 1
        assert wakeups == []
    finally:
        journal.close()
