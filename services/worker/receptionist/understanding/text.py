"""Normalising and tokenising a client's message; which language it is in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Language = Literal["ru", "en"]

_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"\d{1,2}:\d{2}|\d+(?:[.,]\d+)*|[a-zа-я]+(?:['’-][a-zа-я]+)*", re.IGNORECASE)
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


_ONE_FOR_ONE = str.maketrans(
    {"ё": "е", "’": "'", "‘": "'", "—": "-", "–": "-", "«": '"', "»": '"', "\n": " ", "\t": " "}
)


def normalize(text: str) -> str:
    """Lower case, ё as е, one kind of quote and dash: character for character, so that offsets into
    the result are offsets into the original (a client's name keeps the case it was written in)."""
    normalized = text.lower().translate(_ONE_FOR_ONE)
    return normalized if len(normalized) == len(text) else _SPACES.sub(" ", normalized)


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def is_number(self) -> bool:
        return self.text[:1].isdigit()

    @property
    def is_cyrillic(self) -> bool:
        return bool(_CYRILLIC.search(self.text))


def tokenize(normalized: str) -> list[Token]:
    return [Token(match.group(0), match.start(), match.end()) for match in _TOKEN.finditer(normalized)]


def detect_language(text: str) -> Language | None:
    """The client's language by its letters; None when the text has none (a time, an emoji)."""
    cyrillic = len(_CYRILLIC.findall(text))
    latin = len(_LATIN.findall(text))
    if cyrillic == latin == 0:
        return None
    return "ru" if cyrillic >= latin else "en"
