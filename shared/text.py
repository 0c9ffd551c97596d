"""The one rule for control characters in a client's text: line breaks and tabs stay, the rest never passes.

The gateway strips them (WhatsApp text may carry them); the wire models refuse them, so nothing the
gateway journals is refused by the api later.
"""

from __future__ import annotations

import unicodedata

_KEPT = frozenset("\n\r\t")
_CONTROL_CATEGORIES = frozenset({"Cc", "Cs"})


def is_forbidden_control(ch: str) -> bool:
    return ch not in _KEPT and unicodedata.category(ch) in _CONTROL_CATEGORIES


def first_control_character(text: str) -> str | None:
    return next((ch for ch in text if is_forbidden_control(ch)), None)


def without_control_characters(text: str) -> str:
    return "".join(ch for ch in text if not is_forbidden_control(ch))
