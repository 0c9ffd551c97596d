"""The original's webhook signature: hex HMAC-SHA256 over ``{METHOD}:{path}:{timestamp}:{body}``.

The timestamp (ms) travels in ``x-timestamp`` and is accepted within ±5 minutes, so a captured
request can't be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from shared.errors import NotAuthenticated

SIGNATURE_HEADER = "x-signature"
TIMESTAMP_HEADER = "x-timestamp"
API_KEY_HEADER = "x-api-key"
MAX_SKEW_MS = 5 * 60 * 1000


def sign(secret: str, method: str, path: str, timestamp_ms: int, body: bytes) -> str:
    message = f"{method.upper()}:{path}:{timestamp_ms}:".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, method: str, path: str, body: bytes) -> dict[str, str]:
    timestamp_ms = int(time.time() * 1000)
    return {
        SIGNATURE_HEADER: sign(secret, method, path, timestamp_ms, body),
        TIMESTAMP_HEADER: str(timestamp_ms),
    }


def verify(
    secret: str,
    method: str,
    path: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now_ms: int | None = None,
) -> str | None:
    """Return None when the request is authentic, else the reason it is not."""
    if not signature or not timestamp:
        return f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header"
    try:
        timestamp_ms = int(timestamp)
    except ValueError:
        return f"{TIMESTAMP_HEADER} is not an integer"
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now - timestamp_ms) > MAX_SKEW_MS:
        return f"{TIMESTAMP_HEADER} is more than 5 minutes away from the server clock"
    expected = sign(secret, method, path, timestamp_ms, body)
    # Bytes, not str: compare_digest raises TypeError on non-ASCII text, which would be a 500.
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode("utf-8", "replace")):
        return f"{SIGNATURE_HEADER} does not match the body"
    return None


def api_key_matches(expected: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(expected.encode(), (presented or "").encode("utf-8", "replace"))


def check_api_key(expected: str, headers: Mapping[str, str]) -> None:
    """Internal calls must carry ``x-api-key`` when API_KEY is set; raises NotAuthenticated otherwise."""
    if expected and not api_key_matches(expected, headers.get(API_KEY_HEADER)):
        raise NotAuthenticated(f"missing or wrong {API_KEY_HEADER} header")
