"""Pairing a phone: the QR as PNG and text, and pairing by code. Operator endpoints (x-api-key)."""

from __future__ import annotations

import io
from typing import Any

import segno
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from services.wa_gateway.deps import GatewayDep, require_api_key
from services.wa_gateway.reachability import unreachable_reason
from shared.errors import WhatsAppNotConnected
from shared.http import error_response
from shared.logging import get_logger
from shared.phones import normalize_phone
from shared.wire import PairRequest, SessionStatus

log = get_logger(__name__)
router = APIRouter(dependencies=[Depends(require_api_key)])


def _no_qr(gateway: GatewayDep) -> JSONResponse:
    state = gateway.session.state
    unreachable = unreachable_reason(state)
    if unreachable is not None:  # "reconnect" can't help: nothing gets through to WhatsApp
        return error_response(WhatsAppNotConnected.http_status, unreachable)
    if state.status is SessionStatus.CONNECTED:
        hint = "already connected"
    elif state.status is SessionStatus.STANDBY:
        hint = f"this gateway is on standby ({state.reason}); the process that owns the number shows it"
    else:
        hint = "POST /reconnect to start a new pairing"
    return error_response(404, f"no QR code to show (status: {state.status}); {hint}")


@router.get("/qr", response_model=None)
async def qr_png(gateway: GatewayDep) -> Response:
    qr = gateway.session.state.qr
    if not qr:
        return _no_qr(gateway)
    buffer = io.BytesIO()
    segno.make_qr(qr).save(buffer, kind="png", scale=8, border=4)
    return Response(buffer.getvalue(), media_type="image/png", headers={"cache-control": "no-store"})


@router.get("/qr.txt", response_model=None)
async def qr_text(gateway: GatewayDep) -> Response:
    qr = gateway.session.state.qr
    if not qr:
        return _no_qr(gateway)
    buffer = io.StringIO()
    segno.make_qr(qr).terminal(out=buffer, compact=True, border=2)
    return PlainTextResponse(buffer.getvalue(), headers={"cache-control": "no-store"})


@router.post("/pair", response_model=None)
async def pair(request: PairRequest, gateway: GatewayDep) -> dict[str, Any]:
    """Pair by code: WhatsApp > Linked devices > Link with phone number, then type the code."""
    phone = normalize_phone(request.phone, gateway.settings.default_region)
    code = await gateway.session.pair_phone(phone)
    return {"success": True, "code": code, "phone": phone}
