"""Settings shared by every service, and the one factory that builds any of them.

Each service defines its own subclass; nothing is built at import time. A bad value stops
the process with one line that names the variable, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import ConfigurationError
from shared.wire import COMPANY_ID_PATTERN, is_company_id

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "changethis", "change-me", "secret", "placeholder", "xxx"})

Port = Annotated[int, Field(ge=1, le=65535)]


class CommonSettings(BaseSettings):
    """Variables every service reads. Names and aliases match the original's ``.env``."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    app_env: Literal["development", "test", "production"] = Field("development", alias="APP_ENV")
    company_id: str = Field("962302", alias="COMPANY_ID")
    redis_url: str = Field("redis://127.0.0.1:6379/0", alias="REDIS_URL")
    api_key: SecretStr = Field(SecretStr(""), alias="API_KEY")
    webhook_secret: SecretStr = Field(SecretStr(""), alias="WEBHOOK_SECRET")
    data_dir: Path = Field(Path("var/data"), alias="DATA_DIR")
    log_dir: Path = Field(Path("var/log"), alias="LOG_DIR")
    log_format: Literal["auto", "console", "json"] = Field("auto", alias="LOG_FORMAT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="LOG_LEVEL")
    api_host: str = Field("127.0.0.1", alias="API_HOST")
    api_port: Port = Field(3000, alias="API_PORT")
    wa_gateway_host: str = Field("127.0.0.1", alias="WA_GATEWAY_HOST")
    wa_gateway_port: Port = Field(
        3003, validation_alias=AliasChoices("WA_GATEWAY_PORT", "BAILEYS_PORT"), alias="WA_GATEWAY_PORT"
    )
    default_region: str = Field("RU", alias="DEFAULT_REGION", min_length=2, max_length=2)
    batch_idle_seconds: float = Field(9.0, ge=0, le=600, alias="BATCH_IDLE_SECONDS")
    batch_max_messages: int = Field(10, ge=1, le=100, alias="BATCH_MAX_MESSAGES")
    turn_timeout_seconds: float = Field(90.0, ge=10, le=120, alias="TURN_TIMEOUT_SECONDS")
    """At most 120: a job then runs up to 180 s, and supervisord waits 200 s for the worker to stop."""
    human_takeover_minutes: int = Field(60, ge=0, le=7 * 24 * 60, alias="HUMAN_TAKEOVER_MINUTES")
    """How long the AI stays quiet in a chat after the salon writes to it from its own phone (0: never)."""
    conversation_retention_days: int = Field(90, ge=1, le=3650, alias="CONVERSATION_RETENTION_DAYS")

    @field_validator("company_id")
    @classmethod
    def _company_id_shape(cls, value: str) -> str:
        if not is_company_id(value):
            raise ValueError(f"must match {COMPANY_ID_PATTERN}")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("default_region")
    @classmethod
    def _region_upper(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _production_secrets(self) -> CommonSettings:
        if self.app_env == "production":
            for name, secret in (("API_KEY", self.api_key), ("WEBHOOK_SECRET", self.webhook_secret)):
                raw = secret.get_secret_value()
                if raw.strip().lower() in PLACEHOLDER_SECRETS or len(raw) < 16:
                    raise ConfigurationError(
                        f"{name}: must be set to a real secret (16+ characters) when APP_ENV=production"
                    )
        return self

    @property
    def job_timeout_seconds(self) -> int:
        """RQ's limit for one flush job: a turn's whole budget plus sending its reply."""
        from shared.queueing import job_timeout  # noqa: PLC0415 - queueing imports redis and rq; settings stay light

        return job_timeout(self.turn_timeout_seconds)

    @property
    def conversations_db(self) -> Path:
        """Every chat's transcript: personal data, kept on this machine only (docs/runbook.md)."""
        from shared.conversations import conversations_path  # noqa: PLC0415 - settings stay light

        return conversations_path(self.data_dir, self.company_id)

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.wa_gateway_host}:{self.wa_gateway_port}"


SettingsT = TypeVar("SettingsT", bound=CommonSettings)


def describe_validation_error(error: ValidationError, settings_cls: type[BaseSettings]) -> str:
    """One line naming the environment variable and what is wrong with it."""
    first = error.errors()[0]
    field_name = str(first["loc"][0]) if first["loc"] else ""
    field = settings_cls.model_fields.get(field_name)
    variable = (field.alias if field and field.alias else field_name).upper() or "configuration"
    message = first["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    shown = first.get("input")
    # URLs and DSNs may carry passwords; secrets are never echoed.
    private = any(word in variable.lower() for word in ("secret", "key", "url", "db", "password"))
    if shown is not None and not isinstance(shown, dict) and not private:
        return f"{variable}: {message} (got {shown!r})"
    return f"{variable}: {message}"


def load_settings(settings_cls: type[SettingsT], **overrides: object) -> SettingsT:
    """Build settings or raise ConfigurationError with a one-line, variable-naming message."""
    try:
        return settings_cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigurationError(describe_validation_error(error, settings_cls)) from None
