"""A gateway started with WA_TRANSPORT=neonize that can't reach WhatsApp.

It stays up, says why it is not connected, retries with backoff (visible in logs and metrics),
and exits cleanly on SIGTERM well within supervisord's grace period.

"Can't reach" is the same on every machine: whatsmeow dials through the proxy named in
HTTPS_PROXY, and the test points that at a local port that refuses connections
(docs/neonize.md §10), so no DNS answer or route to WhatsApp makes a difference.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from tests.support.services import Stack
from tests.support.waiting import wait_for


@pytest.fixture
def refusing_proxy() -> Iterator[str]:
    """The URL of a proxy that refuses every connection at once.

    A bound socket that never listens makes the kernel refuse connections to its port, and
    holding it keeps any other process from taking the port for the test's duration.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_an_offline_gateway_stays_up_reports_why_retries_with_backoff_and_stops_on_sigterm(
    make_stack: Callable[..., Stack], refusing_proxy: str
) -> None:
    stack = make_stack(
        WA_TRANSPORT="neonize",
        WA_RECONNECT_MIN_SECONDS="1",
        WA_RECONNECT_MAX_SECONDS="3",
        # Go reads the upper-case names first; local traffic (Redis, the api) stays direct.
        HTTPS_PROXY=refusing_proxy,
        https_proxy=refusing_proxy,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
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
    last_error = health["metrics"]["lastError"]
    assert "WhatsApp connect failed" in last_error
    # The dial really went to the refusing proxy, not to a DNS lookup that happened to fail.
    assert f"proxyconnect tcp: dial tcp {refusing_proxy.removeprefix('http://')}" in last_error
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
