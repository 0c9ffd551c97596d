from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator

from shared.errors import ConfigurationError
from shared.reminders.settings import ReminderSettings


class ApiSettings(ReminderSettings):
    wa_standalone: bool = Field(
        True, validation_alias=AliasChoices("WA_STANDALONE", "BAILEYS_STANDALONE"), alias="WA_STANDALONE"
    )
    enqueue_threads: int = Field(8, ge=1, le=64, alias="API_ENQUEUE_THREADS")

    # --- alerts (services/api/monitor.py, shared/alerts.py; docs/operations.md#alerts) ---
    alert_webhook_url: SecretStr = Field(SecretStr(""), alias="ALERT_WEBHOOK_URL")
    """Often a credential itself (Slack, Discord webhooks): a secret, never logged."""
    telegram_bot_token: SecretStr = Field(SecretStr(""), alias="TELEGRAM_BOT_TOKEN")
    telegram_chat_id: str = Field("", alias="TELEGRAM_CHAT_ID")
    telegram_api_url: str = Field("https://api.telegram.org", alias="TELEGRAM_API_URL")
    """The Bot API's base; tests point it at a local stand-in."""
    alert_check_interval_seconds: float = Field(30.0, ge=0.2, le=3600, alias="ALERT_CHECK_INTERVAL_SECONDS")
    alert_disconnected_minutes: float = Field(10.0, ge=0, le=1440, alias="ALERT_DISCONNECTED_MINUTES")
    alert_backlog_minutes: float = Field(5.0, gt=0, le=1440, alias="ALERT_BACKLOG_MINUTES")
    alert_repeat_minutes: float = Field(15.0, ge=0, le=1440, alias="ALERT_REPEAT_MINUTES")
    alert_ai_fallbacks: int = Field(3, ge=1, le=10_000, alias="ALERT_AI_FALLBACKS")
    alert_ai_fallback_minutes: float = Field(15.0, gt=0, le=1440, alias="ALERT_AI_FALLBACK_MINUTES")
    """At most a day: the worker keeps a day of fallbacks (``redis_keys.AI_FALLBACKS_KEPT_SECONDS``)."""

    @field_validator("alert_webhook_url")
    @classmethod
    def _webhook_is_http(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value().strip()
        if raw and not raw.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return SecretStr(raw)

    @field_validator("telegram_api_url")
    @classmethod
    def _telegram_api_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _telegram_pair(self) -> ApiSettings:
        if bool(self.telegram_bot_token.get_secret_value()) != bool(self.telegram_chat_id.strip()):
            raise ConfigurationError(
                "TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID: set both to alert in Telegram, or neither"
            )
        return self
