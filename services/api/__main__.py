"""``python -m services.api``: run the api under uvicorn."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from services.api.app import create_app
from services.api.settings import ApiSettings
from shared.booking.factory import build_backend
from shared.config import load_settings
from shared.process import exit_on_configuration_error, prepare_process


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
    settings = prepare_process("api", ApiSettings)
    with exit_on_configuration_error("api"):
        build_backend(settings).close()  # a broken catalog stops the api here, with one line
    uvicorn.run(
        _app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
