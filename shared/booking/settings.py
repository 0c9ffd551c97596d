"""Settings of the booking backend, read by the api (bookings listing) and the worker (the receptionist)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from shared.booking.catalog import DEMO_CATALOG
from shared.config import PLACEHOLDER_SECRETS, CommonSettings
from shared.errors import ConfigurationError

YCLIENTS_DEFAULT_URL = "https://api.yclients.com/api/v1"


class BookingSettings(CommonSettings):
    booking_backend: Literal["local", "yclients"] = Field("local", alias="BOOKING_BACKEND")
    catalog_path: Path = Field(DEMO_CATALOG, alias="CATALOG_PATH")
    yclients_api_url: str = Field(YCLIENTS_DEFAULT_URL, alias="YCLIENTS_API_URL")
    yclients_partner_token: SecretStr = Field(SecretStr(""), alias="YCLIENTS_PARTNER_TOKEN")
    yclients_user_token: SecretStr = Field(SecretStr(""), alias="YCLIENTS_USER_TOKEN")
    yclients_timeout_seconds: float = Field(10.0, gt=0, le=120, alias="YCLIENTS_TIMEOUT_SECONDS")
    yclients_cache_seconds: int = Field(300, ge=0, le=86_400, alias="YCLIENTS_CACHE_SECONDS")
    yclients_rate_per_second: int = Field(5, ge=1, le=1000, alias="YCLIENTS_RATE_PER_SECOND")
    yclients_rate_per_minute: int = Field(200, ge=1, le=100_000, alias="YCLIENTS_RATE_PER_MINUTE")
    clock_frozen_at: datetime | None = Field(None, alias="CLOCK_FROZEN_AT")

    @field_validator("catalog_path", mode="before")
    @classmethod
    def _empty_means_demo(cls, value: object) -> object:
        return DEMO_CATALOG if value in ("", None) else value

    @field_validator("clock_frozen_at", mode="before")
    @classmethod
    def _empty_means_running(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("yclients_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("clock_frozen_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry a UTC offset, for example 2026-11-23T10:00:00+03:00")
        return value

    @model_validator(mode="after")
    def _backend_ready(self) -> BookingSettings:
        if self.clock_frozen_at is not None and self.app_env != "test":
            raise ConfigurationError("CLOCK_FROZEN_AT: only allowed with APP_ENV=test (it stops the salon's clock)")
        if self.booking_backend == "yclients":
            for name, secret in (
                ("YCLIENTS_PARTNER_TOKEN", self.yclients_partner_token),
                ("YCLIENTS_USER_TOKEN", self.yclients_user_token),
            ):
                if secret.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
                    raise ConfigurationError(f"{name}: must be set to a real token when BOOKING_BACKEND=yclients")
        return self
