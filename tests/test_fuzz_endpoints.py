"""Property-based: whatever bytes or JSON reach any endpoint of the api or the gateway, never a 5xx.

Endpoints come from each live service's own OpenAPI schema, so a new route is fuzzed automatically.
The simulator's network-event and the operator's reconnect controls are left out: they change the
connection state on purpose, after which a send is rightly a 503.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.redis_server import RedisServer
from tests.support.services import Stack

EXCLUDED = {("post", "/simulator/event"), ("post", "/reconnect")}
FIELDS = ["from", "message", "messageId", "id", "body", "timestamp", "type", "pushName", "companyId", "messages",
          "phone", "idempotencyKey", "emoji"]  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(FIELDS), children, max_size=5),
    max_leaves=12,
)
message_like = st.fixed_dictionaries(
    {"from": st.one_of(st.text(max_size=20), st.just("79001234567")), "message": json_values},
    optional={"messageId": json_values, "timestamp": json_values, "pushName": json_values, "type": json_values},
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries({"messages": st.lists(message_like, max_size=3)}).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"phone": json_values, "message": json_values}).map(lambda v: json.dumps(v).encode()),
)
# Any byte HTTP allows in a header value, non-ASCII included.
header_values = st.binary(min_size=1, max_size=40).filter(
    lambda raw: all(byte >= 0x20 and byte != 0x7F for byte in raw) and raw.strip() == raw
)
fresh_timestamps = st.builds(lambda: str(int(time.time() * 1000)).encode())
headers = st.fixed_dictionaries(
    {},
    optional={
        b"x-signature": header_values,
        b"x-timestamp": st.one_of(header_values, fresh_timestamps),
        b"x-api-key": header_values,
    },
)
path_params = st.one_of(st.just("962302"), st.text(min_size=1, max_size=60).filter(lambda s: "/" not in s))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Its own Redis: this stack outlives single tests, and other tests on this xdist worker flush the
    # shared one and write leases into it between the two fuzz runs.
    redis_server = RedisServer(tmp_path_factory.mktemp("fuzz-redis"))
    redis_server.start()
    # Secrets set, so signature and key checks are fuzzed too.
    stack = Stack(
        tmp_path_factory.mktemp("fuzz"),
        redis_server.url,
        {"WEBHOOK_SECRET": "fuzz-webhook-secret-value", "API_KEY": "fuzz-internal-api-key"},
    )
    try:
        stack.start("wa-gateway", "api")
        yield stack
    finally:
        stack.stop()
        redis_server.stop()


def operations(base_url: str) -> list[tuple[str, str]]:
    schema = httpx.get(f"{base_url}/openapi.json", timeout=10).json()
    return [
        (method, path)
        for path, methods in schema["paths"].items()
        for method in methods
        if (method, path) not in EXCLUDED
    ]


def fuzz(base_url: str) -> Callable[[str, str, bytes, str, dict[bytes, bytes]], None]:
    def call(method: str, path: str, body: bytes, param: str, extra: dict[bytes, bytes]) -> None:
        url = base_url + path.replace("{companyId}", quote(param, safe=""))
        sent = {b"content-type": b"application/json", **extra}
        response = httpx.request(method, url, content=body, headers=sent, timeout=10)
        assert response.status_code < 500, (
            f"{method.upper()} {path} {body[:200]!r} -> {response.status_code} {response.text[:300]}"
        )

    return call


@pytest.mark.parametrize("service", ["api", "wa-gateway"])
def test_no_input_makes_any_endpoint_answer_5xx(stack: Stack, service: str) -> None:
    base_url = stack.api_url if service == "api" else stack.gateway_url
    call = fuzz(base_url)
    ops = operations(base_url)
    assert ops, "the service published no operations"

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(op=st.sampled_from(ops), body=bodies, param=path_params, extra=headers)
    def check(op: tuple[str, str], body: bytes, param: str, extra: dict[bytes, bytes]) -> None:
        call(op[0], op[1], body, param, extra)

    check()
