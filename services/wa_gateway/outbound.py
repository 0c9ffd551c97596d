"""A text to a client through the one session, written into the chat's transcript.

``POST /send`` and the operator's page both send through here, so every reply the client gets,
whether the bot's or a person's, is in the transcript once, with the batch and message it answers.
"""

from __future__ import annotations

from services.wa_gateway.deps import Gateway
from shared.blocking import run_blocking
from shared.conversations import Author
from shared.logging import bound, get_logger
from shared.phones import normalize_chat
from shared.wire import SendRequest, SendResult

log = get_logger(__name__)


async def send_message(gateway: Gateway, request: SendRequest) -> SendResult:
    company_id = gateway.settings.company_id
    chat = normalize_chat(request.phone, gateway.settings.default_region)
    context = {"batch_id": request.batch_id, "message_id": request.in_reply_to}
    with bound(
        company_id=company_id,
        chat=chat,
        idempotency_key=request.idempotency_key,
        **{name: value for name, value in context.items() if value is not None},
    ):
        sent, duplicate = await gateway.session.send_text(chat, request.message, request.idempotency_key)
        # Recorded on a duplicate too: the first attempt may have died between sending and recording.
        await run_blocking(
            gateway.conversations.record_outbound,
            chat,
            request.message,
            Author(request.author),
            dedupe_key=request.idempotency_key or f"wa:{sent.message_id}",
            message_id=sent.message_id,
            batch_id=request.batch_id,
            in_reply_to=request.in_reply_to,
        )
        if not duplicate:
            log.info("Message sent", wa_message_id=sent.message_id, author=request.author, length=len(request.message))
        return SendResult(message_id=sent.message_id, phone=chat, company_id=company_id, duplicate=duplicate)
