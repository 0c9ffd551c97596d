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

import httpx
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


def test_pairing_on_an_offline_gateway_says_whatsapp_is_unreachable_and_what_to_check(
    make_stack: Callable[..., Stack], refusing_proxy: str
) -> None:
    stack = make_stack(
        WA_TRANSPORT="neonize",
        WA_RECONNECT_MIN_SECONDS="1",
        WA_RECONNECT_MAX_SECONDS="3",
        HTTPS_PROXY=refusing_proxy,
        https_proxy=refusing_proxy,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    stack.start("wa-gateway")
    wait_for(lambda: stack.gateway_health()["metrics"]["failedReconnects"] >= 1, 60, "a failed connection attempt")

    answers = [httpx.get(f"{stack.gateway_url}{path}", timeout=10) for path in ("/qr", "/qr.txt")]
    # Validated first: a bad phone is still a 400 that names it.
    assert httpx.post(f"{stack.gateway_url}/pair", json={"phone": "12"}, timeout=30).status_code == 400
    answers.append(httpx.post(f"{stack.gateway_url}/pair", json={"phone": "79001234567"}, timeout=30))
    for answer in answers:
        assert answer.status_code == 503, answer.text
        error = answer.json()["error"]
        assert error.startswith("WhatsApp is unreachable from this machine"), error
        for what_to_check in ("network", "proxy", "firewall", "web.whatsapp.com", "g.whatsapp.net"):
            assert what_to_check in error
        assert "proxyconnect" in error  # the failure itself, as whatsmeow reported it
        assert "reconnect" not in error.lower()  # the advice that could not help

    # The text-only gateway needs no ffmpeg; neonize's warning about it at every connect is noise.
    output = stack.services["wa-gateway"].output()
    assert "Connecting to WhatsApp" in output
    assert "ffmpeg" not in output.lower()
