"""Each message WhatsApp delivers becomes an ``InboundMessage`` in the journal before its event handler returns.

The journal is the gateway's promise: a message in it reaches the api's webhook, however often the
api is down. A redelivery from WhatsApp (same id) is stored once. Each message also goes into the
chat's transcript (``shared.conversations``) first, so an operator can read it however the rest fares.

The salon's own messages (written on its phone: WhatsApp's "fromMe") are not forwarded: a person
is talking to that client, so they go into the transcript as a person's and pause the AI there
for HUMAN_TAKEOVER_MINUTES, and the bot never talks over them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import ValidationError

from services.wa_gateway.journal import Journal
from services.wa_gateway.state import Metrics
from services.wa_gateway.transport.base import IncomingReaction, WhatsAppMessage
from shared.blocking import run_blocking
from shared.conversations import Author, ConversationStore
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
    def __init__(
        self,
        company_id: str,
        journal: Journal,
        on_journalled: Callable[[], None],
        metrics: Metrics,
        conversations: ConversationStore | None = None,
        takeover_minutes: int = 0,
    ) -> None:
        self._company_id = company_id
        self._journal = journal
        self._on_journalled = on_journalled
        self._metrics = metrics
        self._conversations = conversations
        self._takeover_minutes = takeover_minutes

    async def record(self, message: WhatsAppMessage, own_phone: str | None) -> None:
        with bound(company_id=self._company_id, chat=message.chat, message_id=message.message_id):
            if message.chat == own_phone:
                log.debug("Skipping a message in the salon's chat with itself")
                return
            if message.from_me:
                await self._record_salon_message(message)
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
            if not await run_blocking(self._keep, inbound):
                log.info("Duplicate delivery from WhatsApp ignored")
                return
            self._metrics.messages_received += 1
            log.info("New message from", push_name=message.push_name, kind=message.kind, length=len(message.text))
            self._on_journalled()

    def _keep(self, inbound: InboundMessage) -> bool:
        """Transcript, then journal, in one trip to a thread; False when the journal had this id already.

        The transcript first: WhatsApp redelivers until the event handler returns, and both writes are idempotent.
        """
        if self._conversations is not None:
            self._conversations.record_client_message(inbound)
        return self._journal.append(inbound)

    async def record_reaction(self, reaction: IncomingReaction) -> None:
        """A client's emoji on a message goes into the transcript (an empty one: the reaction was removed)."""
        if self._conversations is not None:
            await run_blocking(
                self._conversations.record_reaction,
                reaction.sender,
                reaction.emoji,
                reaction.message_id,
                Author.CLIENT,
                reaction.timestamp_ms,
            )

    async def _record_salon_message(self, message: WhatsAppMessage) -> None:
        conversations = self._conversations
        if conversations is None:
            log.debug("Skipping the salon's own message")
            return
        chat = f"{message.chat}{GROUP_SUFFIX}" if message.is_group else message.chat
        if await run_blocking(conversations.is_outbound, chat, message.message_id):
            log.debug("Skipping the echo of a message this gateway sent")
            return
        await run_blocking(
            conversations.record_outbound,
            chat,
            without_control_characters(message.text) or f"[{message.kind}]",
            Author.PERSON,
            dedupe_key=f"wa:{message.message_id}",
            message_id=message.message_id,
            kind=message.kind,
            at_ms=message.timestamp_ms,
        )
        if self._takeover_minutes <= 0:
            log.info("The salon wrote to this chat from its phone; HUMAN_TAKEOVER_MINUTES=0, the AI keeps answering")
            return
        until_ms = int(time.time() * 1000) + self._takeover_minutes * 60_000
        paused_until = await run_blocking(conversations.pause, chat, until_ms, "salon phone", extend_only=True)
        log.info(
            "The salon wrote to this chat from its phone; the AI is paused there",
            paused_until=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(paused_until / 1000)),
        )
