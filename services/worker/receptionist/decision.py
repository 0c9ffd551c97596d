"""What a turn decided: stored under the batch, so a retry replays it instead of deciding again."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.worker.receptionist.commands import Step


class Reaction(BaseModel):
    emoji: str
    message_id: str


class Decision(BaseModel):
    provider: str
    steps: list[Step] = Field(default_factory=list)
    parts: list[str] = Field(default_factory=list)
    reaction: Reaction | None = None
    fallback_reason: str | None = None
    """Why the configured LLM was not used for this turn, when it wasn't."""
