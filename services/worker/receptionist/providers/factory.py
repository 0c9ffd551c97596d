"""The configured provider, and the embedded one every turn can fall back to."""

from __future__ import annotations

from services.worker.receptionist.providers.base import Provider
from services.worker.receptionist.providers.embedded import EmbeddedProvider
from services.worker.settings import WorkerSettings


def build_provider(settings: WorkerSettings) -> tuple[Provider, EmbeddedProvider]:
    embedded = EmbeddedProvider()
    if settings.ai_provider == "embedded":
        return embedded, embedded
    from services.worker.receptionist.providers.openai_compatible import OpenAICompatibleProvider  # noqa: PLC0415

    return OpenAICompatibleProvider(settings), embedded
