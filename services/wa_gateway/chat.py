"""``make chat``: talk to the running stack as a WhatsApp client would, through the simulator.

Each line typed is a message from the client's phone; the replies and reactions the salon sends
are printed as WhatsApp would show them. This is how an owner tries the receptionist on a fresh
machine (the gateway must use ``WA_TRANSPORT=simulator``, the default).
"""

from __future__ import annotations

import sys
import time
from typing import Annotated, Any

import httpx
import typer

from services.wa_gateway.settings import GatewaySettings
from shared.config import load_settings
from shared.errors import ConfigurationError
from shared.signing import API_KEY_HEADER
from shared.tls import tls_context

QUIET_SECONDS = 2.0
"""A reply is complete when nothing more arrived for this long after its first part."""
POLL_SECONDS = 0.3

app = typer.Typer(add_completion=False)


class Chat:
    def __init__(self, gateway_url: str, api_key: str, phone: str, name: str | None, patience: float) -> None:
        headers = {API_KEY_HEADER: api_key} if api_key else {}
        self._http = httpx.Client(base_url=gateway_url, timeout=10, headers=headers, verify=tls_context())
        self.phone = phone
        self.name = name
        self.patience = patience
        self._seen = len(self._outbox())

    def close(self) -> None:
        self._http.close()

    def _outbox(self) -> list[dict[str, Any]]:
        response = self._http.get("/simulator/outbox", params={"phone": self.phone})
        if response.status_code == 404:
            raise typer.BadParameter("the gateway has no simulator: chat needs WA_TRANSPORT=simulator")
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages

    def send(self, text: str) -> None:
        body: dict[str, Any] = {"from": self.phone, "message": text}
        if self.name:
            body["pushName"] = self.name
        self._http.post("/simulator/inbound", json=body).raise_for_status()

    def replies(self) -> list[dict[str, Any]]:
        """Wait for the salon's answer: the first part, then until it goes quiet."""
        started = time.monotonic()
        got: list[dict[str, Any]] = []
        last_change = started
        while True:
            new = self._outbox()[self._seen :]
            if new:
                self._seen += len(new)
                got.extend(new)
                last_change = time.monotonic()
            now = time.monotonic()
            if got and now - last_change >= QUIET_SECONDS:
                return got
            if not got and now - started >= self.patience:
                return got
            time.sleep(POLL_SECONDS)


def show(item: dict[str, Any]) -> str:
    if item.get("kind") == "reaction":
        return f"salon reacted {item.get('emoji')} to your message"
    text = str(item.get("text", ""))
    return "salon: " + text.replace("\n", "\n       ")


@app.command()
def main(
    phone: Annotated[str, typer.Option(help="the client's phone (digits)")] = "79000000001",
    name: Annotated[str | None, typer.Option(help="the client's WhatsApp profile name")] = None,
) -> None:
    """Chat with the receptionist as a client. Ctrl-D (or an empty line twice) ends the chat."""
    try:
        settings = load_settings(GatewaySettings)
    except ConfigurationError as error:
        typer.echo(f"configuration error: {error}", err=True)
        raise typer.Exit(2) from None
    converse(settings.gateway_url, settings.api_key.get_secret_value(), phone, name, settings.batch_idle_seconds)


def converse(gateway_url: str, api_key: str, phone: str, name: str | None, batch_idle_seconds: float) -> None:
    """The chat itself, read from stdin; ``ai-admin chat`` runs it too, with its own settings and URLs."""
    patience = batch_idle_seconds + 60
    interactive = sys.stdin.isatty()
    chat: Chat | None = None
    try:
        chat = Chat(gateway_url, api_key, phone, name, patience)
        typer.echo(
            f"You are +{phone} writing to the salon on WhatsApp (simulator at {gateway_url}).\n"
            f"The receptionist answers after {batch_idle_seconds:g} s of silence, as it would on"
            " WhatsApp. Ctrl-D quits."
        )
        while True:
            if interactive:
                typer.echo("you> ", nl=False)
            line = sys.stdin.readline()
            if not line:
                break
            text = line.strip()
            if not text:
                continue
            if not interactive:
                typer.echo(f"you: {text}")
            chat.send(text)
            answer = chat.replies()
            if not answer:
                typer.echo("(no answer yet; is the worker running? `make status`)")
            for item in answer:
                typer.echo(show(item))
    except httpx.HTTPError as error:
        typer.echo(f"the gateway at {gateway_url} does not answer ({type(error).__name__}); `make run` first")
        raise typer.Exit(1) from None
    finally:
        if chat is not None:
            chat.close()


if __name__ == "__main__":
    app()
