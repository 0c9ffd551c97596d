"""The one backoff: capped exponential with jitter, for reconnecting to WhatsApp and redelivering webhooks."""

from __future__ import annotations

import random


def backoff_delay(attempt: int, minimum: float, maximum: float) -> float:
    """Seconds before retry number ``attempt`` (0-based): about minimum, 2x, 4x ... up to maximum, ±20 %.

    The jitter keeps several processes that failed together from retrying in step.
    """
    base = min(maximum, minimum * (2 ** min(attempt, 16)))
    return float(min(maximum, base * random.uniform(0.8, 1.2)))
