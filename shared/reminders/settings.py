"""Settings of reminders, notices and the calendar link, read by the api, the worker and the scheduler."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator

from shared.booking.settings import BookingSettings
from shared.config import PLACEHOLDER_SECRETS
from shared.errors import ConfigurationError
from shared.reminders.windows import DailyWindow


class ReminderSettings(BookingSettings):
    reminder_day_before_window: str = Field("19:00-21:00", alias="REMINDER_DAY_BEFORE_WINDOW")
    """The salon's evening hours in which the day-before reminder goes out (docs/reminders.md)."""
    reminder_before_minutes: int = Field(120, ge=20, le=720, alias="REMINDER_BEFORE_MINUTES")
    """The short reminder's lead; it is sent from 1.25 to 0.75 of it before the visit (2.5 to 1.5 hours)."""
    reminder_reply_minutes: int = Field(30, ge=1, le=24 * 60, alias="REMINDER_REPLY_MINUTES")
    """A "да" this soon after a reminder confirms the visit; later it is an ordinary message."""
    public_base_url: str = Field("", alias="PUBLIC_BASE_URL")
    """Where clients reach the api from outside (https://…); empty: no calendar link after a booking."""
    calendar_link_secret: SecretStr = Field(SecretStr(""), alias="CALENDAR_LINK_SECRET")
    calendar_link_hours: int = Field(72, ge=1, le=24 * 60, alias="CALENDAR_LINK_HOURS")
    yclients_webhook_key: SecretStr = Field(SecretStr(""), alias="YCLIENTS_WEBHOOK_KEY")
    """The key YClients' webhook URL carries (``?key=``); empty: POST /webhook/yclients is refused."""

    @field_validator("reminder_day_before_window")
    @classmethod
    def _window(cls, value: str) -> str:
        return str(DailyWindow.parse(value))

    @field_validator("public_base_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _secrets_that_protect_links(self) -> ReminderSettings:
        secret = self.calendar_link_secret.get_secret_value()
        if self.public_base_url and (secret.strip().lower() in PLACEHOLDER_SECRETS or len(secret) < 16):
            raise ConfigurationError(
                "CALENDAR_LINK_SECRET: must be a real secret (16+ characters) when PUBLIC_BASE_URL is set"
            )
        key = self.yclients_webhook_key.get_secret_value()
        if key and (key.strip().lower() in PLACEHOLDER_SECRETS or len(key) < 16):
            raise ConfigurationError("YCLIENTS_WEBHOOK_KEY: must be 16+ characters (or empty to refuse the webhook)")
        return self

    @property
    def day_before_window(self) -> DailyWindow:
        return DailyWindow.parse(self.reminder_day_before_window)
