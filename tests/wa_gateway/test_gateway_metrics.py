"""The gateway's health counters: kept across a restart, and ``errors`` counts connection failures too."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx

from services.wa_gateway.counters import keep_counters
from services.wa_gateway.journal import Journal
from services.wa_gateway.session import WhatsAppSession
from services.wa_gateway.settings import GatewaySettings
from services.wa_gateway.transport.simulator import SimulatorTransport
from shared.wire import SessionEvent, SessionStatus
from tests.support.metrics import scrape
from tests.support.services import Stack
from tests.support.waiting import wait_for

CLIENT = "79001234567"


def counters(stack: Stack) -> dict[str, int]:
    metrics = stack.gateway_health()["metrics"]
    return {name: metrics[name] for name in ("messagesSent", "messagesReceived", "errors", "reconnectAttempts")}


def connected(stack: Stack) -> bool:
    return bool(stack.gateway_health()["connected"])


def test_health_counters_survive_a_gateway_restart(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    stack.start("wa-gateway")  # the api is not needed: the journal keeps what it can't forward
    wait_for(lambda: connected(stack), 30, "the simulator to connect")

    stack.client_writes(CLIENT, "Здравствуйте")
    stack.client_writes(CLIENT, "Есть время завтра?")
    for number in range(3):
        body = {"phone": CLIENT, "message": f"ответ {number}", "idempotencyKey": f"restart-{number}"}
        httpx.post(f"{stack.gateway_url}/send", json=body, timeout=10).raise_for_status()
    httpx.post(f"{stack.gateway_url}/simulator/event", json={"type": "disconnected"}, timeout=10).raise_for_status()
    wait_for(lambda: connected(stack), 30, "the gateway to reconnect")
    before = counters(stack)
    assert before == {"messagesSent": 3, "messagesReceived": 2, "errors": 1, "reconnectAttempts": 1}

    stack.restart("wa-gateway")
    wait_for(lambda: connected(stack), 30, "the simulator to connect after the restart")

    assert counters(stack) == before
    after = scrape(f"{stack.gateway_url}/metrics")
    assert after.value("ai_admin_wa_messages_sent_total") == 3
    assert after.value("ai_admin_wa_messages_received_total") == 2
    assert after.value("ai_admin_wa_errors_total") == 1

    # And they keep counting from there.
    stack.client_writes(CLIENT, "Спасибо")
    wait_for(lambda: counters(stack)["messagesReceived"] == 3, 10, "the third message to be counted")


def test_a_lost_connection_counts_as_an_error_and_the_reconnect_as_an_attempt(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    stack.start("wa-gateway")
    wait_for(lambda: connected(stack), 30, "the simulator to connect")
    first = scrape(f"{stack.gateway_url}/metrics")
    assert first.value("ai_admin_wa_errors_total") == 0
    assert first.value("ai_admin_wa_reconnect_attempts_total") == 0

    httpx.post(f"{stack.gateway_url}/simulator/event", json={"type": "disconnected"}, timeout=10).raise_for_status()
    wait_for(lambda: connected(stack), 30, "the gateway to reconnect")

    health = stack.gateway_health()["metrics"]
    assert health["errors"] == 1
    assert "simulated disconnected" in health["lastError"]
    assert health["messagesSent"] == 0  # not a send failure: a connection failure
    after = scrape(f"{stack.gateway_url}/metrics")
    assert after.value("ai_admin_wa_errors_total") == 1
    assert after.value("ai_admin_wa_reconnect_attempts_total") == 1
    assert after.value("ai_admin_wa_session_status", status="connected") == 1


class RefusingOnce(SimulatorTransport):
    """The first connect fails the way a network outage makes it fail; the next one works."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir, "79990000000")
        self.attempts = 0
        self.connected_once = asyncio.Event()

    async def connect(self) -> None:
        self.attempts += 1
        if self.attempts == 1:
            raise ConnectionRefusedError("connection refused")
        await super().connect()
        self.connected_once.set()


async def _no_publish(_event: SessionEvent) -> None:
    return None


async def test_a_failed_connect_counts_as_an_error_and_is_saved(tmp_path: Path) -> None:
    settings = GatewaySettings(DATA_DIR=str(tmp_path), WA_RECONNECT_MIN_SECONDS=0.05, WA_RECONNECT_MAX_SECONDS=0.1)
    transport = RefusingOnce(tmp_path)
    journal = Journal(tmp_path / "journal.sqlite")
    session = WhatsAppSession(settings, transport, journal, lambda: None, _no_publish)
    keeper = await keep_counters(session.metrics, journal)
    try:
        session.start()
        await asyncio.wait_for(transport.connected_once.wait(), 10)
        assert session.state.status is SessionStatus.CONNECTED
        assert session.metrics.errors == 1
        assert session.metrics.failed_reconnects == 1
        assert session.metrics.reconnect_attempts == 1
        assert session.metrics.last_error == "connection refused"
    finally:
        await session.stop()
        await keeper.stop()
        transport.close()
    assert journal.counters()["errors"] == 1
    journal.close()
