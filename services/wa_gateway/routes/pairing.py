"""Pairing a phone: the QR as PNG and text, and pairing by code. Operator endpoints (x-api-key)."""

from __future__ import annotations

import io
from typing import Any

import segno
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from services.wa_gateway.deps import GatewayDep, require_api_key
from shared.http import error_response
from shared.logging import get_logger
from shared.phones import normalize_phone
from shared.wire import PairRequest, SessionStatus

log = get_logger(__name__)
router = APIRouter(dependencies=[Depends(require_api_key)])


def _no_qr(gateway: GatewayDep) -> JSONResponse:
    status = gateway.session.state.status
    hint = "already connected" if status is SessionStatus.CONNECTED else "POST /reconnect to start a new pairing"
    return error_response(404, f"no QR code to show (status: {status}); {hint}")


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
