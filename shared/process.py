"""Entry-point helpers: settings, logging and the Redis check, each failing with one line."""

from __future__ import annotations

import sys

from shared.config import SettingsT, load_settings
from shared.errors import ConfigurationError
from shared.logging import configure_logging
from shared.redis_client import check_reachable


def prepare_process(service: str, settings_cls: type[SettingsT]) -> SettingsT:
    """Load settings, check Redis and configure logging; on any problem print one line, exit 2."""
    try:
        settings = load_settings(settings_cls)
        check_reachable(settings.redis_url)
    except ConfigurationError as error:
        sys.stderr.write(f"{service}: configuration error: {error}\n")
        raise SystemExit(2) from None
    configure_logging(service, settings)
    return settings
