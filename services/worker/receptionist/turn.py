"""One client turn, as every provider sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.worker.receptionist.catalog import CatalogView
from services.worker.receptionist.executor import Executor
from services.worker.receptionist.memory import ChatMemory
from services.worker.receptionist.understanding.parse import Understanding
from services.worker.receptionist.understanding.text import Language


@dataclass
class Turn:
    phone: str
    text: str
    """The rapid-fire batch joined with spaces, as the original did."""
    push_name: str | None
    now: datetime
    language: Language
    memory: ChatMemory
    catalog: CatalogView
    executor: Executor
    understanding: Understanding
    greet: bool
    """First message of the day: the reply opens with a greeting."""
    may_offer_help: bool
    """"Чем ещё могу помочь?" was not asked in the last 30 minutes."""


class ProviderFailed(Exception):
    """The provider could not produce a reply (timeout, 5xx, 429 after retries, malformed tool arguments).

    Not part of the project's error tree on purpose: it never leaves the receptionist, which answers
    the turn with the embedded provider instead.
    """
