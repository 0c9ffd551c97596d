"""Load what understanding needs before the worker forks its processes, so every one shares it in memory."""

from __future__ import annotations

from datetime import date

from services.worker.receptionist.understanding.dates import find_date
from services.worker.receptionist.understanding.lexicon import lexicon
from services.worker.receptionist.understanding.morphology import analyzer, lemmas
from services.worker.receptionist.understanding.text import normalize

_SAMPLES = ("25 ноября", "через неделю", "Nov 25", "in 3 days")


def warm_up() -> None:
    """pymorphy3's dictionaries, the lexicon and dateparser's ru/en data (about half a second, once)."""
    analyzer()
    lexicon()
    lemmas("стрижкой")
    today = date(2026, 1, 1)
    for sample in _SAMPLES:
        find_date(normalize(sample), today)
