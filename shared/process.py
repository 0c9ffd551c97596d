"""Entry-point helpers: settings, logging and the Redis check, each failing with one line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from shared.config import SettingsT, load_settings
from shared.errors import ConfigurationError
from shared.logging import configure_logging
from shared.redis_client import check_reachable


@contextmanager
def exit_on_configuration_error(service: str) -> Iterator[None]:
    """A ConfigurationError inside stops the process with one line naming the problem, exit code 2."""
    try:
        yield
    except ConfigurationError as error:
        sys.stderr.write(f"{service}: configuration error: {error}\n")
        raise SystemExit(2) from None


def prepare_process(service: str, settings_cls: type[SettingsT]) -> SettingsT:
    """Load settings, check Redis and configure logging; on any problem print one line, exit 2."""
    with exit_on_configuration_error(service):
        settings = load_settings(settings_cls)
        check_reachable(settings.redis_url)
    configure_logging(service, settings)
    return settings
