"""The CLI in this process (typer's CliRunner) against a small local HTTP server standing in for a service.

The settings come only from what a test gives: the working directory is the test's own (no developer
``.env``), and every variable the CLI reads is cleared first.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from services.cli.app import app

Reply = tuple[int, Any]
"""(status, body): a dict or list is sent as JSON, a str as text/plain."""
Route = Callable[["Request"], Reply]

SETTINGS_PREFIXES = ("API_", "WA_", "BAILEYS_", "REDIS_", "COMPANY_", "APP_ENV")


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeService:
    """Answers each (method, path) from ``routes``; 404 otherwise. Records every request it got."""

    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    url: str = ""

    def on(self, method: str, path: str, reply: Reply | Route) -> None:
        if callable(reply):
            self.routes[(method, path)] = reply
        else:
            fixed: Reply = reply
            self.routes[(method, path)] = lambda _request: fixed

    def handle(self, request: Request) -> Reply:
        self.requests.append(request)
        route = self.routes.get((request.method, request.path))
        return route(request) if route else (404, {"success": False, "error": f"no route {request.path}"})


@pytest.fixture
def fake_service() -> Iterator[Callable[[], FakeService]]:
    servers: list[ThreadingHTTPServer] = []

    def start() -> FakeService:
        service = FakeService()

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                request = Request(
                    self.command,
                    path,
                    query,
                    {key.lower(): value for key, value in self.headers.items()},
                    json.loads(raw) if raw else None,
                )
                status, body = service.handle(request)
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "text/plain" if isinstance(body, str) else "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        service.url = f"http://127.0.0.1:{server.server_address[1]}"
        return service

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``cli("status", "--json", env={...})``: ai-admin in this process, from an empty directory."""
    for name in list(os.environ):
        if name.startswith(SETTINGS_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), env=env, input=input, catch_exceptions=False, prog_name="ai-admin")

    return invoke
