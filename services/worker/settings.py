from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from shared.config import PLACEHOLDER_SECRETS
from shared.errors import ConfigurationError
from shared.queueing import RETRY_INTERVALS_SECONDS
from shared.reminders.settings import ReminderSettings

AiProvider = Literal["embedded", "openai", "deepseek", "gemini"]

PRESETS: dict[str, tuple[str, str, str]] = {
    "deepseek": ("https://api.deepseek.com", "deepseek-chat", "DEEPSEEK_API_KEY"),
    "gemini": ("https://generativelanguage.googleapis.com/v1beta/openai/", "gemini-2.5-flash", "GEMINI_API_KEY"),
}
"""AI_PROVIDER presets: base URL, model, and the variable holding the key. AI_BASE_URL/AI_MODEL override them."""


class WorkerSettings(ReminderSettings):
    ai_provider: AiProvider = Field("embedded", alias="AI_PROVIDER")
    ai_base_url: str = Field("", alias="AI_BASE_URL")
    ai_api_key: SecretStr = Field(SecretStr(""), alias="AI_API_KEY")
    ai_model: str = Field("", alias="AI_MODEL")
    ai_timeout_seconds: float = Field(30.0, gt=0, le=300, alias="AI_TIMEOUT_SECONDS")
    ai_max_retries: int = Field(2, ge=0, le=10, alias="AI_MAX_RETRIES")
    deepseek_api_key: SecretStr = Field(SecretStr(""), alias="DEEPSEEK_API_KEY")
    gemini_api_key: SecretStr = Field(SecretStr(""), alias="GEMINI_API_KEY")
    reply_budget_per_hour: int = Field(30, ge=1, le=10_000, alias="REPLY_BUDGET_PER_HOUR")
    reply_part_gap_seconds: float = Field(0.5, ge=0, le=10, alias="REPLY_PART_GAP_SECONDS")
    worker_maintenance_interval_seconds: int = Field(30, ge=1, le=3600, alias="WORKER_MAINTENANCE_INTERVAL")
    worker_job_monitoring_interval_seconds: int = Field(10, ge=1, le=300, alias="WORKER_JOB_MONITORING_INTERVAL")
    worker_heartbeat_grace_seconds: int = Field(60, ge=1, le=600, alias="WORKER_HEARTBEAT_GRACE_SECONDS")
    worker_metrics_host: str = Field("127.0.0.1", alias="WORKER_METRICS_HOST")
    worker_metrics_port: int = Field(9102, ge=0, le=65535, alias="WORKER_METRICS_PORT")
    """Prometheus scrapes the worker here (services/worker/metrics.py); 0 turns the port off."""
    worker_processes: int = Field(3, ge=1, le=32, alias="WORKER_PROCESSES")
    """Worker processes forked from the worker's warmed main process; each answers one chat at a time."""
    chat_lock_ttl_seconds: float = Field(30.0, ge=3, le=300, alias="CHAT_LOCK_TTL_SECONDS")
    """How long a killed execution keeps its chat locked; a live one renews the lock every third of it."""
    job_retry_intervals_seconds: Annotated[tuple[int, ...], NoDecode] = Field(
        RETRY_INTERVALS_SECONDS, alias="JOB_RETRY_INTERVALS"
    )

    @field_validator("job_retry_intervals_seconds", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",")) if value.strip() else ()
        return value

    @field_validator("job_retry_intervals_seconds")
    @classmethod
    def _one_pause_per_retry(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        # The api stamps the number of retries on every job it creates; the worker only paces them.
        if len(value) != len(RETRY_INTERVALS_SECONDS):
            raise ValueError(f"must be {len(RETRY_INTERVALS_SECONDS)} comma-separated seconds, one per retry")
        if not all(1 <= pause <= 3600 for pause in value):
            raise ValueError("each pause must be 1-3600 seconds")
        return value

    @field_validator("ai_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @property
    def llm_base_url(self) -> str:
        return self.ai_base_url or PRESETS.get(self.ai_provider, ("", "", ""))[0]

    @property
    def llm_model(self) -> str:
        return self.ai_model or PRESETS.get(self.ai_provider, ("", "", ""))[1]

    @property
    def llm_api_key(self) -> str:
        """AI_API_KEY, or the preset's own variable (DEEPSEEK_API_KEY, GEMINI_API_KEY)."""
        own = self.ai_api_key.get_secret_value()
        if own or self.ai_provider not in PRESETS:
            return own
        preset_key = {"deepseek": self.deepseek_api_key, "gemini": self.gemini_api_key}[self.ai_provider]
        return preset_key.get_secret_value()

    @model_validator(mode="after")
    def _llm_ready(self) -> WorkerSettings:
        if self.ai_provider == "embedded":
            return self
        if not self.llm_base_url:
            raise ConfigurationError("AI_BASE_URL: required when AI_PROVIDER=openai")
        if not self.llm_model:
            raise ConfigurationError("AI_MODEL: required when AI_PROVIDER=openai")
        if self.ai_timeout_seconds >= self.turn_timeout_seconds:
            raise ConfigurationError("AI_TIMEOUT_SECONDS: must be shorter than TURN_TIMEOUT_SECONDS")
        key_variable = PRESETS[self.ai_provider][2] if self.ai_provider in PRESETS else "AI_API_KEY"
        if self.app_env == "production" and self.llm_api_key.strip().lower() in PLACEHOLDER_SECRETS:
            raise ConfigurationError(f"{key_variable}: must be set to a real key when APP_ENV=production")
        return self
