from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.wa_gateway.forwarder import Forwarder
from services.wa_gateway.journal import Journal
from services.wa_gateway.session import WhatsAppSession
from services.wa_gateway.settings import GatewaySettings
from services.wa_gateway.transport.simulator import SimulatorTransport
from shared.conversations import ConversationStore
from shared.signing import check_api_key


@dataclass
class Gateway:
    settings: GatewaySettings
    session: WhatsAppSession
    journal: Journal
    forwarder: Forwarder
    conversations: ConversationStore


async def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


async def require_api_key(request: Request, gateway: GatewayDep) -> None:
    check_api_key(gateway.settings.api_key.get_secret_value(), request.headers)


async def get_simulator(gateway: GatewayDep) -> SimulatorTransport:
    transport = gateway.session.transport
    assert isinstance(transport, SimulatorTransport)
    return transport


SimulatorDep = Annotated[SimulatorTransport, Depends(get_simulator)]
