"""``python -m services.api``: run the api under uvicorn."""

from __future__ import annotations

import shared.no_rich  # noqa: F401 - first, before anything imports structlog

# isort: split

from fastapi import FastAPI

from services.api.app import create_app
from services.api.settings import ApiSettings
from shared.booking.factory import build_backend
from shared.config import load_settings
from shared.process import exit_on_configuration_error, parse_command_line, prepare_process, serve

SUMMARY = """\
api: receives the gateway's webhooks (POST /webhook/whatsapp/batched), stores each chat's messages
in Redis and schedules the worker's flush job; proxies the worker's replies to the gateway
(POST /api/whatsapp/sessions/{companyId}/send) and lists bookings. Listens on API_HOST:API_PORT."""

VARIABLES = (
    ("API_PORT", "where it listens (API_HOST: the address)"),
    ("REDIS_URL", "the Redis holding the chats' buffers and the RQ queue"),
    ("WA_GATEWAY_PORT", "the gateway replies are proxied to (WA_GATEWAY_HOST: the address)"),
    ("COMPANY_ID", "the company served"),
    ("API_KEY", "required as x-api-key on internal calls when set"),
    ("WEBHOOK_SECRET", "when set, webhooks must carry a valid signature"),
    ("BOOKING_BACKEND", "local (an embedded salon) or yclients"),
    ("WA_STANDALONE", "false: the api also hosts the WhatsApp session (the original's legacy topology)"),
)


def _app(settings: ApiSettings) -> FastAPI:
    if settings.wa_standalone:
        return create_app(settings)
    # The legacy topology is composed above the api; it is imported only when chosen.
    from services.hosted_session import create_hosted_app  # noqa: PLC0415
    from services.wa_gateway.settings import GatewaySettings  # noqa: PLC0415

    with exit_on_configuration_error("api"):
        gateway_settings = load_settings(GatewaySettings)
    return create_hosted_app(settings, gateway_settings)


def main() -> None:
    parse_command_line("services.api", SUMMARY, ApiSettings, VARIABLES)
    settings = prepare_process("api", ApiSettings)
    with exit_on_configuration_error("api"):
        build_backend(settings).close()  # a broken catalog stops the api here, with one line
    serve("api", _app(settings), settings.api_host, settings.api_port, "API_PORT", graceful_seconds=10)


if __name__ == "__main__":
    main()
