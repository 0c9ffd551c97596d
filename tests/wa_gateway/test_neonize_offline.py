"""A gateway started with WA_TRANSPORT=neonize on a machine with no route to WhatsApp.

It stays up, says why it is not connected, retries with backoff (visible in logs and metrics),
and exits cleanly on SIGTERM well within supervisord's grace period.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable

import pytest

from tests.support.services import Stack
from tests.support.waiting import wait_for


def whatsapp_is_reachable() -> bool:
    try:
        socket.getaddrinfo("web.whatsapp.com", 443)
    except OSError:
        return False
    return True


@pytest.mark.skipif(whatsapp_is_reachable(), reason="this machine can reach WhatsApp; the test needs no route to it")
def test_an_offline_gateway_stays_up_reports_why_retries_with_backoff_and_stops_on_sigterm(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(WA_TRANSPORT="neonize", WA_RECONNECT_MIN_SECONDS="1", WA_RECONNECT_MAX_SECONDS="3")
    stack.start("wa-gateway")
    gateway = stack.services["wa-gateway"]

    health = wait_for(
        lambda: (h := stack.gateway_health())["metrics"]["failedReconnects"] >= 3 and h,
        60,
        "three failed connection attempts",
    )
    assert health["connected"] is False
    assert health["status"] in ("disconnected", "connecting")
    assert health["reason"] or health["metrics"]["lastError"]
    assert gateway.running
    output = gateway.output()
    assert output.count("WhatsApp connect failed; retrying with backoff") >= 3
    assert "Reconnecting to WhatsApp after backoff" in output

    assert gateway.process is not None
    started = time.monotonic()
    gateway.process.send_signal(signal.SIGTERM)
    returncode = gateway.process.wait(30)
    assert time.monotonic() - started < 10
    # uvicorn finishes its graceful shutdown, then re-raises SIGTERM so the exit status reports it.
    assert returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in gateway.output()
    assert "Traceback" not in gateway.output()
