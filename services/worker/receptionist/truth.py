"""Checking what an LLM wrote against what the backend confirmed this turn.

An LLM may say "вы записаны" without having called CREATE_BOOKING, or offer "16:00" without having
searched. Two checks catch that before the reply reaches the client: a claim of a booking,
cancellation or move needs a step that confirms it, and every time of day in the reply must be one
the turn's steps, the times offered before, or the client's own words contain. When either fails,
the turn is answered by the embedded provider instead (``agent.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from services.worker.receptionist.commands import Step

_CLAIMS = {
    "booked": re.compile(
        r"\bзаписал[аи]?\b|\bзаписаны?\b|\bзаписана\b|\bзабронировал[аи]?\b|\bзапись\s+(?:создана|подтверждена|оформлена)"
        r"|\bбронь\s+подтверждена|\byou(?:'re|\s+are)\s+(?:all\s+)?booked|\bi(?:'ve|\s+have)?\s+booked\b"
        r"|\b(?:booking|appointment|visit)\s+(?:is\s+|has\s+been\s+)?(?:confirmed|booked|made|set)\b|\breserved\b",
        re.IGNORECASE,
    ),
    "cancelled": re.compile(
        r"\bотменил[аи]?\b|\bотмен[её]н[аоы]?\b|\bcancel+ed\b|\bi(?:'ve|\s+have)\s+cancel", re.IGNORECASE
    ),
    "rescheduled": re.compile(
        r"\bперенесл[аи]\b|\bперен[её]с\b|\bперенес[её]н[аоы]?\b|\bresched\w*\b|\bmoved\b|\bi(?:'ve|\s+have)\s+moved",
        re.IGNORECASE,
    ),
}
_CONFIRMING = {
    # Listing the client's bookings ("вы записаны на пятницу") confirms that they are booked, too.
    "booked": {"booked", "already_booked", "bookings"},
    "cancelled": {"cancelled"},
    "rescheduled": {"rescheduled"},
}
_DENIAL_BEFORE = re.compile(
    r"(?:\bне|\bнельзя|\bnot|n't|\bunable\s+to|\bfailed\s+to|\bcannot|\bno\s+longer)\W+(?:\w+\W+){0,2}$", re.IGNORECASE
)
_CLOCK = re.compile(r"(?<![\d:])([01]?\d|2[0-3])[:.]([0-5]\d)(?![\d])")


def unconfirmed_claim(text: str, steps: Iterable[Step]) -> str | None:
    """The kind of change ``text`` says happened with no step confirming it ("запись не создана" is no claim)."""
    outcomes = {step.outcome for step in steps}
    for kind, pattern in _CLAIMS.items():
        for match in pattern.finditer(text):
            if _DENIAL_BEFORE.search(text[max(0, match.start() - 40) : match.start()]):
                continue
            if not outcomes & _CONFIRMING[kind]:
                return kind
    return None


def clock_times(text: str) -> set[str]:
    return {f"{int(hour):02d}:{minute}" for hour, minute in _CLOCK.findall(text)}


def unbacked_times(text: str, steps: Iterable[Step], known: Iterable[str]) -> set[str]:
    """Times of day in ``text`` that neither this turn's steps nor ``known`` (offered, said) contain."""
    backed = set(known)
    for step in steps:
        backed |= clock_times(json.dumps(step.data, ensure_ascii=False, default=str))
    return clock_times(text) - backed
