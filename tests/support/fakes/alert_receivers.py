"""Where alerts go, served over real HTTP on 127.0.0.1: a plain webhook receiver and a Telegram Bot API stand-in.

``WebhookReceiver`` records every JSON body POSTed to ``/alerts`` and answers ``status`` (200, or whatever a
test sets to play a broken receiver).

``TelegramBotApi`` is faithful to the subset of the Bot API (https://core.telegram.org/bots/api) the project
uses, ``sendMessage``:

- ``POST /bot<token>/sendMessage`` with a JSON body (or form fields) ``chat_id`` (integer or ``@channel``
  string) and ``text``; every answer is ``{"ok": ...}`` JSON;
- success is 200 ``{"ok": true, "result": <Message>}`` with ``message_id``, ``date``, ``chat`` and ``text``;
- a wrong token is 401 ``{"ok": false, "error_code": 401, "description": "Unauthorized"}``;
- an empty or missing ``chat_id`` or ``text``, an unknown chat and a text over 4096 characters are 400
  with the Bot API's ``Bad Request: ...`` descriptions;
- ``outage`` set to a status (429, 502...) answers every request with it, as Telegram does when flooded or down.

Not faithful: no other method, no ``parse_mode`` entity parsing, no ``reply_markup``; any chat id in
``chats`` exists and every other is "chat not found".
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Generator
from types import TracebackType
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["TelegramBotApi", "WebhookReceiver"]


class _ThreadedServer(uvicorn.Server):
    # Signal handlers can only be installed from the main thread, and the test process owns SIGINT anyway.
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class _Served:
    """A Starlette app served by uvicorn in a daemon thread, on a port bound before the thread starts."""

    def __init__(self, app: Starlette) -> None:
        self._app = app
        self._server: _ThreadedServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.lock = threading.Lock()

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self._app, log_level="warning", access_log=False, lifespan="off", ws="none")
        self._server = _ThreadedServer(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{type(self).__name__} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class WebhookReceiver(_Served):
    def __init__(self) -> None:
        super().__init__(Starlette(routes=[Route("/alerts", self._receive, methods=["POST"])]))
        self.status = 200
        self._received: list[dict[str, Any]] = []
        self.refused = 0

    @property
    def url(self) -> str:
        return f"{self.base_url}/alerts"

    @property
    def received(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._received)

    async def _receive(self, request: Request) -> JSONResponse:
        body = await request.json()
        with self.lock:
            if self.status >= 300:
                self.refused += 1
            else:
                self._received.append(body)
            return JSONResponse({"received": self.status < 300}, status_code=self.status)


TEXT_LIMIT = 4096


class TelegramBotApi(_Served):
    def __init__(self, token: str = "123456:test-token", chats: tuple[str, ...] = ("-1001234567890",)) -> None:
        super().__init__(Starlette(routes=[Route("/bot{token:str}/{method:str}", self._method, methods=["POST"])]))
        self.token = token
        self.chats = set(chats)
        self.outage: int | None = None
        self._messages: list[dict[str, Any]] = []
        self.refused = 0

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Messages the bot sent: ``{chat_id, text}`` as received."""
        with self.lock:
            return list(self._messages)

    async def _method(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return self._error(401, "Unauthorized")
        if self.outage is not None:
            return self._error(self.outage, "Too Many Requests: retry after 5" if self.outage == 429 else "Bad Gateway")
        if request.path_params["method"] != "sendMessage":
            return self._error(404, "Not Found: method not found")
        params = await self._params(request)
        chat_id = str(params.get("chat_id") or "")
        text = str(params.get("text") or "")
        if not chat_id:
            return self._error(400, "Bad Request: chat_id is empty")
        if not text.strip():
            return self._error(400, "Bad Request: message text is empty")
        if len(text) > TEXT_LIMIT:
            return self._error(400, "Bad Request: message is too long")
        if chat_id not in self.chats:
            return self._error(400, "Bad Request: chat not found")
        with self.lock:
            self._messages.append({"chat_id": chat_id, "text": text})
            message_id = len(self._messages)
        chat_type = "channel" if chat_id.startswith("@") else "supergroup" if chat_id.startswith("-100") else "private"
        result = {
            "message_id": message_id,
            "from": {"id": 123456, "is_bot": True, "first_name": "Alerts", "username": "alerts_bot"},
            "chat": {"id": int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id, "type": chat_type},
            "date": int(time.time()),
            "text": text,
        }
        return JSONResponse({"ok": True, "result": result})

    @staticmethod
    async def _params(request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await request.json()
            return body if isinstance(body, dict) else {}
        return dict(await request.form())

    def _error(self, status: int, description: str) -> JSONResponse:
        with self.lock:
            self.refused += 1
        return JSONResponse({"ok": False, "error_code": status, "description": description}, status_code=status)
