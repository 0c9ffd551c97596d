"""Controls of the simulator transport; mounted only when WA_TRANSPORT=simulator."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from services.wa_gateway.deps import GatewayDep, SimulatorDep
from shared.phones import normalize_phone
from shared.wire import CleanText, Identifier, WireModel

router = APIRouter(prefix="/simulator")


class SimulatedInbound(WireModel):
    from_: Annotated[str, Field(min_length=1, max_length=64)] = Field(alias="from")
    message: Annotated[CleanText, Field(min_length=1, max_length=65536)]
    push_name: Annotated[CleanText, Field(max_length=256)] | None = Field(None, alias="pushName")
    message_id: Identifier | None = Field(None, alias="messageId")


class SimulatedEvent(WireModel):
    type: Literal["connected", "disconnected", "stream_replaced", "logged_out", "qr"]
    qr: Annotated[str, Field(min_length=1, max_length=512)] | None = None
    """With ``type: qr``: the code's text (a random one when absent)."""


@router.post("/inbound")
async def inbound(body: SimulatedInbound, gateway: GatewayDep, simulator: SimulatorDep) -> dict[str, Any]:
    sender = normalize_phone(body.from_, gateway.settings.default_region)
    message = await simulator.inbound(sender, body.message, body.push_name, body.message_id)
    return {"success": True, "messageId": message.message_id, "from": sender}


class SimulatedSalonMessage(WireModel):
    to: Annotated[str, Field(min_length=1, max_length=64)]
    message: Annotated[CleanText, Field(min_length=1, max_length=65536)]


@router.post("/salon-message")
async def salon_message(body: SimulatedSalonMessage, gateway: GatewayDep, simulator: SimulatorDep) -> dict[str, Any]:
    """The salon answers a client from its own phone, not through the gateway."""
    chat = normalize_phone(body.to, gateway.settings.default_region)
    message = await simulator.salon_writes(chat, body.message)
    return {"success": True, "messageId": message.message_id, "to": chat}


class SimulatedReaction(WireModel):
    from_: Annotated[str, Field(min_length=1, max_length=64)] = Field(alias="from")
    emoji: Annotated[str, Field(min_length=1, max_length=16)]
    message_id: Identifier = Field(alias="messageId")


@router.post("/reaction")
async def reaction(body: SimulatedReaction, gateway: GatewayDep, simulator: SimulatorDep) -> dict[str, Any]:
    sender = normalize_phone(body.from_, gateway.settings.default_region)
    await simulator.reaction(sender, body.emoji, body.message_id)
    return {"success": True, "from": sender}


@router.get("/outbox")
async def outbox(
    simulator: SimulatorDep,
    gateway: GatewayDep,
    phone: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    normalized = normalize_phone(phone, gateway.settings.default_region) if phone else None
    items = await simulator.outbox(normalized)
    return {"messages": [item.as_json() for item in items]}


@router.post("/event")
async def event(body: SimulatedEvent, gateway: GatewayDep, simulator: SimulatorDep) -> dict[str, Any]:
    await simulator.network_event(body.type, body.qr)
    return {"success": True, "status": gateway.session.state.status}
