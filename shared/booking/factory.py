"""Build the configured booking backend; one per process, closed with it."""

from __future__ import annotations

from shared.booking.backend import BookingBackend
from shared.booking.catalog import load_catalog
from shared.booking.local import LocalBackend, database_path
from shared.booking.settings import BookingSettings
from shared.errors import BackendUnavailable, ConfigurationError


def build_backend(settings: BookingSettings) -> BookingBackend:
    if settings.booking_backend == "yclients":
        from shared.booking.yclients.backend import YClientsBackend  # noqa: PLC0415 - only when configured

        return YClientsBackend.from_settings(settings)
    catalog = load_catalog(settings.catalog_path)
    if catalog.company.id != settings.company_id:
        raise ConfigurationError(
            f"CATALOG_PATH: the catalog's company.id {catalog.company.id} is not COMPANY_ID {settings.company_id}"
        )
    path = database_path(settings.data_dir, settings.company_id)
    try:
        return LocalBackend(path, catalog, settings.clock_frozen_at)
    except (OSError, BackendUnavailable) as error:
        raise ConfigurationError(f"DATA_DIR: cannot open the salon database {path}: {error}") from None
