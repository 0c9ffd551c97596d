from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AIRequest:
    company_id: str
    phone: str
    text: str
    """The whole rapid-fire batch, joined as the original did."""
    client_name: str | None
    message_count: int


@dataclass(frozen=True, slots=True)
class AIResponse:
    text: str
    provider: str


class AIProvider(Protocol):
    name: str

    def reply(self, request: AIRequest) -> AIResponse:
        """Raise TransientError for timeouts and rate limits, PermanentError for anything else."""
