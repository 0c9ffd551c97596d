"""``POST /webhook/whatsapp/batched``: messages from the gateway into Redis for the worker."""

from __future__ import annotations

import time
from functools import partial
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field, ValidationError

from services.api.deps import ApiState, StateDep
from services.api.ingest import ingest
from shared.batching import BufferedMessage
from shared.errors import InvalidInput, InvalidPhone, NotAuthenticated, StoreUnavailable, UnknownCompany
from shared.http import describe_validation, error_response, parse_json_object
from shared.logging import bound, get_logger
from shared.models import BatchedWebhook, CompanyIdField, Identifier, InboundMessage, SingleWebhook, WireModel
from shared.phones import normalize_chat, normalize_phone
from shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

log = get_logger(__name__)
router = APIRouter()

WEBHOOK_PATH = "/webhook/whatsapp/batched"


def _parse(body: bytes) -> tuple[str | None, list[InboundMessage]]:
    data = parse_json_object(body)
    try:
        if "messages" in data:
            batched = BatchedWebhook.model_validate(data)
            return batched.company_id, batched.messages
        single = SingleWebhook.model_validate(data)
    except ValidationError as error:
        _status, message = describe_validation(error.errors())
        raise InvalidInput(message) from None
    return single.company_id, [InboundMessage.model_validate(single.model_dump(exclude={"company_id"}))]


def _buffered(messages: list[InboundMessage], region: str) -> list[BufferedMessage]:
    buffered = []
    for index, message in enumerate(messages):
        try:
            chat = normalize_chat(message.from_, region)
        except InvalidPhone as error:
            raise InvalidPhone(f"messages.{index}.from: {error}") from None
        buffered.append(
            BufferedMessage(
                chat=chat,
                text=message.message,
                message_id=message.message_id,
                timestamp_ms=message.timestamp,
                kind=message.type,
                push_name=message.push_name,
            )
        )
    return buffered


class ReactionWebhook(WireModel):
    company_id: CompanyIdField | None = Field(None, alias="companyId")
    from_: Annotated[str, Field(min_length=1, max_length=64)] = Field(alias="from")
    emoji: Annotated[str, Field(min_length=1, max_length=16)]
    message_id: Identifier = Field(alias="messageId")
    timestamp: Annotated[int, Field(ge=0)] | None = None


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


@router.post("/webhook/whatsapp/reaction")
async def reaction_webhook(request: Request, state: StateDep) -> dict[str, Any]:
    """A client reacted to a message. Logged for now; nothing is queued for the AI."""
    body = await _signed_body(request, state)
    try:
        reaction = ReactionWebhook.model_validate(parse_json_object(body))
    except ValidationError as error:
        raise InvalidInput(describe_validation(error.errors())[1]) from None
    company_id = reaction.company_id or state.settings.company_id
    if company_id != state.settings.company_id:
        raise UnknownCompany(f"companyId {company_id!r} is not served by this deployment")
    chat = normalize_phone(reaction.from_, state.settings.default_region)
    with bound(company_id=company_id, chat=chat, message_id=reaction.message_id):
        log.info("Reaction from", emoji=reaction.emoji)
    return {"success": True}


@router.post(WEBHOOK_PATH, response_model=None)
async def batched_webhook(request: Request, state: StateDep) -> dict[str, Any] | JSONResponse:
    started = time.perf_counter()
    body = await _signed_body(request, state)
    company_id, messages = _parse(body)
    company_id = company_id or state.settings.company_id
    if company_id != state.settings.company_id:
        raise UnknownCompany(f"companyId {company_id!r} is not served by this deployment")
    buffered = _buffered(messages, state.settings.default_region)
    try:
        result = await anyio.to_thread.run_sync(
            partial(
                ingest,
                state.redis,
                state.batches,
                state.queue,
                company_id,
                buffered,
                state.settings.batch_idle_seconds,
                state.settings.job_timeout_seconds,
            ),
            limiter=state.redis_limiter,
        )
    except StoreUnavailable as error:
        log.error("Webhook not stored; the gateway will retry", error=str(error), company_id=company_id)
        return error_response(503, str(error))
    for message in result.added:
        with bound(company_id=company_id, chat=message.chat, message_id=message.message_id):
            log.info("Message queued for the worker")
    for message in result.duplicates:
        with bound(company_id=company_id, chat=message.chat, message_id=message.message_id):
            log.info("Duplicate message ignored")
    elapsed_ms = (time.perf_counter() - started) * 1000
    return {
        "success": True,
        "message": "Messages added to batch",
        "addedCount": len(result.added),
        "duplicateCount": len(result.duplicates),
        "processingTime": round(elapsed_ms, 2),
    }
