from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import Field

from services.wa_gateway.deps import GatewayDep, require_api_key
from shared.errors import TransientError
from shared.http import error_response
from shared.logging import bound, get_logger
from shared.models import ReactionRequest, SendRequest, SendResult, WireModel
from shared.phones import normalize_chat, normalize_phone

log = get_logger(__name__)
router = APIRouter(dependencies=[Depends(require_api_key)])


@router.post("/send", response_model=None)
async def send(request: SendRequest, gateway: GatewayDep) -> dict[str, Any] | JSONResponse:
    phone = normalize_chat(request.phone, gateway.settings.default_region)
    with bound(company_id=gateway.settings.company_id, chat=phone, idempotency_key=request.idempotency_key):
        try:
            sent, duplicate = await gateway.session.send_text(phone, request.message, request.idempotency_key)
        except TransientError as error:
            log.warning("Failed to send", error=str(error))
            return error_response(503, str(error))
        except Exception as error:
            log.error("Failed to send", error=f"{type(error).__name__}: {error}")
            return error_response(502, f"WhatsApp refused the message: {error}")
        if not duplicate:
            log.info("Message sent", message_id=sent.message_id, length=len(request.message))
        result = SendResult(
            message_id=sent.message_id,
            phone=phone,
            company_id=gateway.settings.company_id,
            duplicate=duplicate,
        )
        return result.model_dump(by_alias=True)


@router.post("/reaction", response_model=None)
async def reaction(request: ReactionRequest, gateway: GatewayDep) -> dict[str, Any] | JSONResponse:
    phone = normalize_phone(request.phone, gateway.settings.default_region)
    with bound(company_id=gateway.settings.company_id, chat=phone, message_id=request.message_id):
        try:
            sent, duplicate = await gateway.session.send_reaction(
                phone, request.message_id, request.emoji, request.idempotency_key
            )
        except TransientError as error:
            log.warning("Failed to send reaction", error=str(error))
            return error_response(503, str(error))
        except Exception as error:
            log.error("Failed to send reaction", error=f"{type(error).__name__}: {error}")
            return error_response(502, f"WhatsApp refused the reaction: {error}")
        if not duplicate:
            log.info("Reaction sent", emoji=request.emoji)
        return {
            "success": True,
            "messageId": sent.message_id,
            "phone": phone,
            "emoji": request.emoji,
            "duplicate": duplicate,
        }


class TypingRequest(WireModel):
    phone: Annotated[str, Field(min_length=1, max_length=64)]
    state: Literal["composing", "paused"]


@router.post("/typing", response_model=None)
async def typing(request: TypingRequest, gateway: GatewayDep) -> dict[str, Any] | JSONResponse:
    """The typing indicator, so a client sees the salon "typing…" while the AI works."""
    phone = normalize_phone(request.phone, gateway.settings.default_region)
    try:
        await gateway.session.send_typing(phone, request.state == "composing")
    except TransientError as error:
        return error_response(503, str(error))
    except Exception as error:
        log.warning("Typing indicator not sent", error=f"{type(error).__name__}: {error}")
        return error_response(502, f"WhatsApp refused the typing indicator: {error}")
    return {"success": True, "phone": phone, "state": request.state}


@router.post("/reconnect")
async def reconnect(gateway: GatewayDep) -> dict[str, Any]:
    """The operator action that resumes a replaced or logged-out session."""
    await gateway.session.reconnect()
    return {"success": True, "status": gateway.session.state.status}
