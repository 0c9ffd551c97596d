"""The configured provider, and the embedded one every turn can fall back to."""

from __future__ import annotations

from services.worker.receptionist.providers.base import Provider
from services.worker.receptionist.providers.embedded import EmbeddedProvider
from services.worker.settings import WorkerSettings


def import_provider(settings: WorkerSettings) -> None:
    """Load the configured provider's code (the openai SDK is about 14 MB) in the worker's main process, so the
    worker processes forked from it share it instead of each loading its own copy. Nothing is sent."""
    if settings.ai_provider != "embedded":
        from services.worker.receptionist.providers.openai_compatible import OpenAICompatibleProvider  # noqa: PLC0415

        OpenAICompatibleProvider(settings).preload()


def build_provider(settings: WorkerSettings) -> tuple[Provider, EmbeddedProvider]:
    embedded = EmbeddedProvider()
    if settings.ai_provider == "embedded":
        return embedded, embedded
    from services.worker.receptionist.providers.openai_compatible import OpenAICompatibleProvider  # noqa: PLC0415

    return OpenAICompatibleProvider(settings), embedded
