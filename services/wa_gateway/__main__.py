"""``python -m services.wa_gateway``: run the gateway under uvicorn."""

from __future__ import annotations

import shared.no_rich  # noqa: F401 - first, before anything imports structlog

# isort: split

from services.wa_gateway.app import create_app
from services.wa_gateway.settings import GatewaySettings
from shared.process import parse_command_line, prepare_process, serve

SUMMARY = """\
wa-gateway: the only owner of the WhatsApp session (neonize, or the simulator with no phone).
It journals every inbound message, forwards it to the api's webhook, sends replies (POST /send)
and serves GET /health, /qr and POST /pair on WA_GATEWAY_HOST:WA_GATEWAY_PORT."""

VARIABLES = (
    ("WA_GATEWAY_PORT", "where it listens (WA_GATEWAY_HOST: the address)"),
    ("WA_TRANSPORT", "simulator (no phone, no network) or neonize (a real number)"),
    ("REDIS_URL", "the Redis holding the session lease and the event channels"),
    ("API_PORT", "the api it forwards inbound messages to (API_HOST: the address)"),
    ("COMPANY_ID", "the company served"),
    ("DATA_DIR", "the journal wa-gateway-<COMPANY_ID>.sqlite, the WhatsApp session, the QR files"),
    ("LOG_DIR", "where wa-gateway.json.log is written"),
)


def main() -> None:
    parse_command_line("services.wa_gateway", SUMMARY, GatewaySettings, VARIABLES)
    settings = prepare_process("wa-gateway", GatewaySettings)
    serve(
        "wa-gateway",
        create_app(settings),
        settings.wa_gateway_host,
        settings.wa_gateway_port,
        "WA_GATEWAY_PORT",
        graceful_seconds=5,
    )


if __name__ == "__main__":
    main()
