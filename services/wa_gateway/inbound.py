"""Each message WhatsApp delivers becomes an ``InboundMessage`` in the journal before its event handler returns.

The journal is the gateway's promise: a message in it reaches the api's webhook, however often the
api is down. A redelivery from WhatsApp (same id) is stored once; the salon's own messages are not
forwarded at all.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError

from services.wa_gateway.journal import Journal
from services.wa_gateway.state import Metrics
from services.wa_gateway.transport.base import WhatsAppMessage
from shared.blocking import run_blocking
from shared.http import describe_validation
from shared.logging import bound, get_logger
from shared.phones import GROUP_SUFFIX
from shared.text import without_control_characters
from shared.wire import InboundMessage

log = get_logger(__name__)


def to_inbound(message: WhatsAppMessage) -> InboundMessage:
    """The wire form; raises ValidationError when the message breaks the contract (an id WhatsApp never uses)."""
    return InboundMessage(
        from_=f"{message.chat}{GROUP_SUFFIX}" if message.is_group else message.chat,
        message=without_control_characters(message.text) or f"[{message.kind}]",
        message_id=message.message_id,
        timestamp=message.timestamp_ms,
        type=message.kind,
        push_name=without_control_characters(message.push_name) if message.push_name else None,
    )


class InboundRecorder:
    def __init__(self, company_id: str, journal: Journal, on_journalled: Callable[[], None], metrics: Metrics) -> None:
        self._company_id = company_id
        self._journal = journal
        self._on_journalled = on_journalled
        self._metrics = metrics

    async def record(self, message: WhatsAppMessage, own_phone: str | None) -> None:
        with bound(company_id=self._company_id, chat=message.chat, message_id=message.message_id):
            if message.from_me or message.chat == own_phone:
                log.debug("Skipping the salon's own message")
                return
            try:
                inbound = to_inbound(message)
            except ValidationError as error:
                # Refused here, as the api would refuse it, but kept: an operator can read what was lost.
                reason = describe_validation(error.errors())[1]
                raw = {"from": message.chat, "messageId": message.message_id, "type": message.kind}
                await run_blocking(self._journal.append_rejected, message.message_id, raw, reason)
                log.error(
                    "Message from WhatsApp breaks the wire contract; kept in the journal as rejected", error=reason
                )
                return
            if not await run_blocking(self._journal.append, inbound):
                log.info("Duplicate delivery from WhatsApp ignored")
                return
            self._metrics.messages_received += 1
            log.info("New message from", push_name=message.push_name, kind=message.kind, length=len(message.text))
            self._on_journalled()
