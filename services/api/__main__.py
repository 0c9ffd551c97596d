"""``python -m services.api``: run the api under uvicorn."""

from __future__ import annotations

import sys

import uvicorn

from services.api.app import create_app
from services.api.settings import ApiSettings
from shared.booking.factory import build_backend
from shared.errors import ConfigurationError
from shared.process import prepare_process


def main() -> None:
    settings = prepare_process("api", ApiSettings)
    try:
        build_backend(settings).close()  # a broken catalog stops the api here, with one line
    except ConfigurationError as error:
        sys.stderr.write(f"api: configuration error: {error}\n")
        raise SystemExit(2) from None
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
