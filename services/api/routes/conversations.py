"""The chats' transcripts and the human takeover, for the operator (``x-api-key``).

``GET /api/conversations``: recent chats; ``GET /api/conversations/{phone}``: one transcript;
``POST …/takeover {minutes}`` and ``…/release``: pause and resume the AI for one chat. A person
answers a paused chat through the ordinary send proxy with ``author: "person"``.
``DELETE /api/conversations/{phone}``: forget one client (transcript and the receptionist's memory).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from services.api.deps import StateDep, require_api_key
from shared import redis_keys
from shared.blocking import run_blocking
from shared.errors import InvalidPhone, UnknownConversation
from shared.http import parse_body
from shared.logging import bound, get_logger
from shared.phones import normalize_chat
from shared.wire import CONVERSATION_PATH, CONVERSATIONS_PATH, RELEASE_PATH, TAKEOVER_PATH, TakeoverRequest

log = get_logger(__name__)
router = APIRouter(dependencies=[Depends(require_api_key)])

PhonePath = Annotated[str, Path(min_length=1, max_length=64)]
DEFAULT_TAKEOVER_MINUTES = 60
"""When HUMAN_TAKEOVER_MINUTES is 0 (the salon's phone never pauses the AI) an explicit takeover still lasts."""


def _chat(state: StateDep, phone: str) -> str:
    try:
        return normalize_chat(phone, state.settings.default_region)
    except InvalidPhone as error:
        raise InvalidPhone(f"phone: {error}") from None


@router.get(CONVERSATIONS_PATH)
async def conversations(state: StateDep, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    chats = await run_blocking(state.conversations.chats, limit)
    return {"success": True, "conversations": [chat.to_wire() for chat in chats]}


@router.get(CONVERSATION_PATH)
async def conversation(
    phone: PhonePath, state: StateDep, limit: Annotated[int, Query(ge=1, le=2000)] = 200
) -> dict[str, Any]:
    chat = _chat(state, phone)
    summary = await run_blocking(state.conversations.summary, chat)
    if summary is None:
        raise UnknownConversation(f"no conversation with {chat}")
    messages = await run_blocking(state.conversations.transcript, chat, limit)
    return {
        "success": True,
        "phone": chat,
        "summary": summary.to_wire(),
        "messages": [message.to_wire() for message in messages],
    }


@router.post(TAKEOVER_PATH)
async def takeover(phone: PhonePath, request: Request, state: StateDep) -> dict[str, Any]:
    chat = _chat(state, phone)
    body = await request.body()
    takeover = parse_body(body, TakeoverRequest.model_validate) if body.strip() else TakeoverRequest()
    minutes = takeover.minutes or state.settings.human_takeover_minutes or DEFAULT_TAKEOVER_MINUTES
    until_ms = int(time.time() * 1000) + minutes * 60_000
    with bound(company_id=state.settings.company_id, chat=chat):
        await run_blocking(state.conversations.pause, chat, until_ms, "operator")
        log.info("A person took this chat over; the AI is paused", minutes=minutes)
    return {"success": True, "phone": chat, "pausedUntil": until_ms}


@router.post(RELEASE_PATH)
async def release(phone: PhonePath, state: StateDep) -> dict[str, Any]:
    chat = _chat(state, phone)
    with bound(company_id=state.settings.company_id, chat=chat):
        await run_blocking(state.conversations.release, chat)
        log.info("Chat released; the AI answers its next message")
    return {"success": True, "phone": chat}


@router.delete(CONVERSATION_PATH)
async def forget(phone: PhonePath, state: StateDep) -> dict[str, Any]:
    """A client's right to erasure: their transcript and everything the receptionist remembers of them."""
    chat = _chat(state, phone)
    with bound(company_id=state.settings.company_id, chat=chat):
        messages = await run_blocking(state.conversations.forget, chat)
        keys = redis_keys.client_memory(state.settings.company_id, chat)
        memory = await state.redis_pool.run(state.redis.delete, *keys)
        log.warning("Client forgotten: transcript and memory deleted", messages=messages, memory_keys=memory)
    return {"success": True, "phone": chat, "messagesDeleted": messages, "memoryKeysDeleted": memory}
