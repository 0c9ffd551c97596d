from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.wa_gateway.forwarder import Forwarder
from services.wa_gateway.journal import Journal
from services.wa_gateway.session import WhatsAppSession
from services.wa_gateway.settings import GatewaySettings
from services.wa_gateway.transport.simulator import SimulatorTransport
from shared.errors import NotAuthenticated
from shared.signing import API_KEY_HEADER, api_key_matches


@dataclass
class Gateway:
    settings: GatewaySettings
    session: WhatsAppSession
    journal: Journal
    forwarder: Forwarder


def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


def require_api_key(request: Request, gateway: GatewayDep) -> None:
    expected = gateway.settings.api_key.get_secret_value()
    if expected and not api_key_matches(expected, request.headers.get(API_KEY_HEADER)):
        raise NotAuthenticated(f"missing or wrong {API_KEY_HEADER} header")


def get_simulator(gateway: GatewayDep) -> SimulatorTransport:
    transport = gateway.session.transport
    assert isinstance(transport, SimulatorTransport)
    return transport


SimulatorDep = Annotated[SimulatorTransport, Depends(get_simulator)]
