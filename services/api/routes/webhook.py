"""``POST /webhook/whatsapp/batched``: messages from the gateway into Redis for the worker."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from services.api.deps import ApiState, StateDep
from shared.errors import InvalidPhone, NotAuthenticated
from shared.http import parse_body
from shared.logging import bound, get_logger
from shared.metrics import API_WEBHOOK_MESSAGES, API_WEBHOOK_SECONDS
from shared.phones import normalize_chat, normalize_phone
from shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from shared.wire import (
    REACTION_WEBHOOK_PATH,
    WEBHOOK_PATH,
    InboundMessage,
    InboundReaction,
    parse_webhook,
    served_company,
)

log = get_logger(__name__)
router = APIRouter()


def _with_chats(messages: list[InboundMessage], region: str) -> list[InboundMessage]:
    """Each message with ``from`` normalised to its chat: a client's E.164 digits or a group id."""
    normalised = []
    for index, message in enumerate(messages):
        try:
            chat = normalize_chat(message.from_, region)
        except InvalidPhone as error:
            raise InvalidPhone(f"messages.{index}.from: {error}") from None
        normalised.append(message.model_copy(update={"from_": chat}))
    return normalised


async def _signed_body(request: Request, state: ApiState) -> bytes:
    """The raw body, once its signature checks out (when WEBHOOK_SECRET is set)."""
    body = await request.body()
    secret = state.settings.webhook_secret.get_secret_value()
    if secret:
        problem = verify(
            secret,
            request.method,
            request.url.path,
            body,
            request.headers.get(SIGNATURE_HEADER),
            request.headers.get(TIMESTAMP_HEADER),
        )
        if problem:
            log.warning("Webhook signature rejected", reason=problem, path=request.url.path)
            raise NotAuthenticated(f"webhook signature rejected: {problem}")
    return body


def _log_each_kind(company_id: str, event: str, messages: list[InboundMessage]) -> None:
    """One line for the request's messages of one kind: ``chat`` and ``message_id`` when it is one message (as
    the gateway forwards a message when it has one), ``chats`` and ``message_ids`` when several. A line per
    message was a third of the api's work under load; a grep for a message id finds either form."""
    if len(messages) == 1:
        with bound(company_id=company_id, chat=messages[0].chat, message_id=messages[0].message_id):
            log.info(event)
    elif messages:
        log.info(
            event,
            company_id=company_id,
            count=len(messages),
            chats=[message.chat for message in messages],
            message_ids=[message.message_id for message in messages],
        )


@router.post(REACTION_WEBHOOK_PATH)
async def reaction_webhook(request: Request, state: StateDep) -> dict[str, Any]:
    """A client reacted to a message. Logged for now; nothing is queued for the AI."""
    body = await _signed_body(request, state)
    reaction = parse_body(body, InboundReaction.model_validate)
    company_id = served_company(reaction.company_id, state.settings.company_id)
    chat = normalize_phone(reaction.from_, state.settings.default_region)
    with bound(company_id=company_id, chat=chat, message_id=reaction.message_id):
        log.info("Reaction from", emoji=reaction.emoji)
    return {"success": True}


@router.post(WEBHOOK_PATH)
async def receive_messages(request: Request, state: StateDep) -> dict[str, Any]:
    """The gateway's batches and the original's single-message form: stored, deduplicated, flush scheduled."""
    started = time.perf_counter()
    try:
        answer = await _receive_messages(request, state)
    except Exception:  # refused or failed: answered by the error handlers, timed here
        API_WEBHOOK_SECONDS.labels("error").observe(time.perf_counter() - started)
        raise
    elapsed = time.perf_counter() - started
    API_WEBHOOK_SECONDS.labels("ok").observe(elapsed)
    return {**answer, "processingTime": round(elapsed * 1000, 2)}


async def _receive_messages(request: Request, state: ApiState) -> dict[str, Any]:
    body = await _signed_body(request, state)
    webhook = parse_body(body, parse_webhook)
    company_id = served_company(webhook.company_id, state.settings.company_id)
    messages = _with_chats(webhook.messages, state.settings.default_region)
    result = await state.ingestor.ingest(company_id, messages)
    _log_each_kind(company_id, "Message queued for the worker", result.added)
    _log_each_kind(company_id, "Duplicate message ignored", result.duplicates)
    API_WEBHOOK_MESSAGES.labels("added").inc(len(result.added))
    API_WEBHOOK_MESSAGES.labels("duplicate").inc(len(result.duplicates))
    return {
        "success": True,
        "message": "Messages added to batch",
        "addedCount": len(result.added),
        "duplicateCount": len(result.duplicates),
    }
