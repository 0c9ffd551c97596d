from __future__ import annotations

from typing import Protocol

from services.worker.receptionist.turn import Turn


class Provider(Protocol):
    name: str

    def respond(self, turn: Turn) -> str:
        """Run the turn's commands through ``turn.executor`` and return the reply's text.

        Raise ``ProviderFailed`` when no reply can be produced; the turn then falls back to embedded.
        """
        ...
