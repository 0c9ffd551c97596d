"""Replies and reactions go out through the api's proxies, one httpx client per process."""

from __future__ import annotations

from typing import Any

import httpx

from shared.errors import PermanentError, UpstreamUnavailable, WhatsAppNotConnected
from shared.signing import API_KEY_HEADER
from shared.tls import tls_context
from shared.wire import ReactionRequest, SendRequest, WireModel, session_reaction_path, session_send_path

SEND_TIMEOUT = httpx.Timeout(45.0, connect=5.0)


class ApiSender:
    def __init__(self, api_url: str, api_key: str) -> None:
        headers = {API_KEY_HEADER: api_key} if api_key else {}
        self._client = httpx.Client(base_url=api_url, timeout=SEND_TIMEOUT, headers=headers, verify=tls_context())

    def close(self) -> None:
        self._client.close()

    def send_text(
        self,
        company_id: str,
        chat: str,
        text: str,
        idempotency_key: str,
        *,
        batch_id: str | None = None,
        in_reply_to: str | None = None,
    ) -> dict[str, Any]:
        request = SendRequest(
            phone=chat,
            message=text,
            idempotency_key=idempotency_key,
            author="bot",
            batch_id=batch_id,
            in_reply_to=in_reply_to,
        )
        return self._post(session_send_path(company_id), request)

    def send_reaction(
        self, company_id: str, chat: str, message_id: str, emoji: str, idempotency_key: str
    ) -> dict[str, Any]:
        request = ReactionRequest(phone=chat, message_id=message_id, emoji=emoji, idempotency_key=idempotency_key)
        return self._post(session_reaction_path(company_id), request)

    def _post(self, path: str, request: WireModel) -> dict[str, Any]:
        try:
            response = self._client.post(
                path, content=request.to_json().encode(), headers={"content-type": "application/json"}
            )
        except httpx.HTTPError as error:
            raise UpstreamUnavailable(f"api unreachable: {type(error).__name__}: {error}") from error
        if response.status_code == 200:
            result: dict[str, Any] = response.json()
            return result
        detail = response.text[:300]
        if response.status_code == 503:
            raise WhatsAppNotConnected(f"send proxy answered 503: {detail}")
        if response.status_code >= 500 or response.status_code == 429:
            raise UpstreamUnavailable(f"send proxy answered {response.status_code}: {detail}")
        raise PermanentError(f"send proxy refused the message ({response.status_code}): {detail}")
