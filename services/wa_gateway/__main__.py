"""``python -m services.wa_gateway``: run the gateway under uvicorn."""

from __future__ import annotations

import uvicorn

from services.wa_gateway.app import create_app
from services.wa_gateway.settings import GatewaySettings
from shared.process import prepare_process


def main() -> None:
    settings = prepare_process("wa-gateway", GatewaySettings)
    uvicorn.run(
        create_app(settings),
        host=settings.wa_gateway_host,
        port=settings.wa_gateway_port,
        log_config=None,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
