"""What a command talks to: settings from the environment or ``.env``, the api, the gateway and Redis.

Settings are read on first use, not when the program starts, so ``--help`` works with a broken ``.env``
and a bad variable is reported by the command that needs it, as one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import httpx
import redis
import typer

from services.cli.errors import EXIT_USAGE, CliError
from shared.config import CommonSettings, load_settings
from shared.errors import ConfigurationError
from shared.signing import API_KEY_HEADER

TIMEOUT_SECONDS = 10.0
"""Long enough for a send through the api to the gateway; a stack that takes longer is in trouble anyway."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    """The JSON object answered; for a plain-text answer, ``{"error": <the text>}``."""
    text: str

    @property
    def error(self) -> str:
        return str(self.body.get("error") or f"HTTP {self.status}")


class Service:
    """One HTTP peer (the api or the gateway), every failure turned into a CliError that names it."""

    def __init__(self, name: str, base_url: str, api_key: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._headers = {API_KEY_HEADER: api_key} if api_key else {}

    def call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        accept: frozenset[int] = frozenset(),
    ) -> Answer:
        """The answer when it is a 2xx or its status is in ``accept``; otherwise a CliError saying why."""
        response = self.raw(method, path, json=json, params=params)
        answer = Answer(response.status_code, _json_object(response), response.text)
        if response.is_success or response.status_code in accept:
            return answer
        if response.status_code == 401:
            raise CliError(
                f"the {self.name} at {self.base_url} refused the API key ({answer.error}); "
                "ai-admin sends API_KEY from the environment or .env, which must match the services'"
            )
        raise CliError(f"the {self.name} answered {response.status_code}: {answer.error}")

    def raw(
        self, method: str, path: str, *, json: dict[str, Any] | None = None, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        """The response whatever its status; a CliError only when nothing answered."""
        try:
            return httpx.request(
                method,
                f"{self.base_url}{path}",
                json=json,
                params=params,
                headers=self._headers,
                timeout=self.timeout,
            )
        except httpx.TimeoutException:
            raise CliError(f"the {self.name} at {self.base_url} did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as error:
            raise CliError(
                f"the {self.name} at {self.base_url} does not answer ({type(error).__name__}); "
                "is the stack running? (make start)"
            ) from None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {"error": response.text[:300]} if response.text else {}
    return data if isinstance(data, dict) else {"data": data}


@dataclass
class Target:
    """The stack this invocation is about; ``--api-url``/``--gateway-url`` override the settings' hosts."""

    api_url_override: str | None = None
    gateway_url_override: str | None = None
    _clients: list[redis.Redis] = field(default_factory=list)

    @cached_property
    def settings(self) -> CommonSettings:
        try:
            return load_settings(CommonSettings)
        except ConfigurationError as error:
            raise CliError(f"configuration error: {error}", EXIT_USAGE) from None

    @property
    def company_id(self) -> str:
        return self.settings.company_id

    @property
    def api_url(self) -> str:
        return (self.api_url_override or self.settings.api_url).rstrip("/")

    @property
    def gateway_url(self) -> str:
        return (self.gateway_url_override or self.settings.gateway_url).rstrip("/")

    @property
    def api_key(self) -> str:
        return self.settings.api_key.get_secret_value()

    def api(self) -> Service:
        return Service("api", self.api_url, self.api_key)

    def gateway(self) -> Service:
        return Service("gateway", self.gateway_url, self.api_key)

    def redis(self) -> redis.Redis:
        """A client that fails fast: a status check must not hang on a Redis that is down."""
        client = redis.Redis.from_url(self.settings.redis_url, socket_connect_timeout=3, socket_timeout=5)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()


def target(ctx: typer.Context) -> Target:
    """The Target the root command put on the context (a fresh one when a command runs on its own)."""
    found = ctx.find_object(Target)
    if found is None:
        found = ctx.ensure_object(Target)
    return found
