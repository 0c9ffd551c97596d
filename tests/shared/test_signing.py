from __future__ import annotations

from shared.signing import sign, signed_headers, verify

SECRET = "webhook-secret"
BODY = b'{"messages":[]}'


def test_a_request_signed_with_the_shared_secret_verifies() -> None:
    headers = signed_headers(SECRET, "POST", "/webhook/whatsapp/batched", BODY)
    assert (
        verify(SECRET, "POST", "/webhook/whatsapp/batched", BODY, headers["x-signature"], headers["x-timestamp"])
        is None
    )


def test_the_signature_covers_method_path_timestamp_and_body() -> None:
    signature = sign(SECRET, "POST", "/p", 1000, BODY)
    assert verify(SECRET, "POST", "/p", BODY, signature, "1000", now_ms=1000) is None
    assert verify(SECRET, "PUT", "/p", BODY, signature, "1000", now_ms=1000) is not None
    assert verify(SECRET, "POST", "/q", BODY, signature, "1000", now_ms=1000) is not None
    assert verify(SECRET, "POST", "/p", BODY, signature, "1001", now_ms=1001) is not None
    assert verify(SECRET, "POST", "/p", BODY + b" ", signature, "1000", now_ms=1000) is not None


def test_a_timestamp_more_than_five_minutes_off_is_refused() -> None:
    signature = sign(SECRET, "POST", "/p", 0, BODY)
    reason = verify(SECRET, "POST", "/p", BODY, signature, "0", now_ms=5 * 60 * 1000 + 1)
    assert reason is not None and "5 minutes" in reason


def test_missing_headers_are_named() -> None:
    reason = verify(SECRET, "POST", "/p", BODY, None, None)
    assert reason is not None and "x-signature" in reason


def test_a_non_ascii_signature_is_simply_wrong() -> None:
    reason = verify(SECRET, "POST", "/p", BODY, "подпись", "1000", now_ms=1000)
    assert reason is not None and "does not match" in reason
