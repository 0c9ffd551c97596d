from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.config import CommonSettings


class WorkerSettings(CommonSettings):
    ai_provider: Literal["embedded"] = Field("embedded", alias="AI_PROVIDER")
    reply_budget_per_hour: int = Field(30, ge=1, le=10_000, alias="REPLY_BUDGET_PER_HOUR")
    reply_part_gap_seconds: float = Field(0.5, ge=0, le=10, alias="REPLY_PART_GAP_SECONDS")
    worker_maintenance_interval_seconds: int = Field(30, ge=5, le=3600, alias="WORKER_MAINTENANCE_INTERVAL")
