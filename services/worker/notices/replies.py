"""A reply to a reminder: a "yes" that confirms the visit, a "no" for the receptionist, or neither.

The words are data (``replies.yaml``). Only a reply made wholly of yes-words (and fillers such as
"спасибо") is a yes: anything more ("да, но можно на час позже?") needs the receptionist.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

WORDS = Path(__file__).with_name("replies.yaml")
Meaning = Literal["yes", "no", "other"]
_SEPARATORS = re.compile(r"[\s,.!?;:()\"«»…\-–—)]+")
_EMOJI_VARIANTS = re.compile("[\ufe0f\U0001f3fb-\U0001f3ff]")
"""Emoji presentation and skin tones: 👍🏻 is 👍."""


@dataclass(frozen=True, slots=True)
class _Words:
    yes: tuple[str, ...]
    filler: tuple[str, ...]
    no: tuple[re.Pattern[str], ...]


@cache
def _words() -> _Words:
    raw: Any = yaml.safe_load(WORDS.read_text(encoding="utf-8"))

    def longest_first(items: list[str]) -> tuple[str, ...]:
        return tuple(sorted((_normal(str(item)) for item in items), key=len, reverse=True))

    return _Words(
        yes=longest_first(raw["yes"]),
        filler=longest_first(raw["filler"]),
        no=tuple(re.compile(pattern) for pattern in raw["no"]),
    )


def _normal(text: str) -> str:
    text = _EMOJI_VARIANTS.sub("", text.lower().replace("ё", "е"))
    # Each emoji is a word of its own: "👍👍" is two thumbs up.
    text = "".join(f" {char} " if unicodedata.category(char) == "So" else char for char in text)
    return " ".join(part for part in _SEPARATORS.split(text) if part)


def meaning(text: str) -> Meaning:
    words = _words()
    normal = _normal(text)
    if any(pattern.search(normal) for pattern in words.no):
        return "no"
    rest = f" {normal} "
    found_yes = False
    for phrase in words.yes:
        padded = f" {phrase} "
        if padded in rest:
            found_yes = True
            rest = rest.replace(padded, " ")
            # A phrase may follow itself ("да да"): replace until none is left.
            while padded in rest:
                rest = rest.replace(padded, " ")
    for phrase in words.filler:
        padded = f" {phrase} "
        while padded in rest:
            rest = rest.replace(padded, " ")
    return "yes" if found_yes and not rest.strip() else "other"
