"""The data files the embedded provider reads: ``lexicon.yaml`` (words, intents) and ``names.yaml``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

_HERE = Path(__file__).parent


@dataclass(frozen=True, slots=True)
class IntentRule:
    lemmas: frozenset[str]
    phrases: tuple[re.Pattern[str], ...]
    any_phrase: re.Pattern[str] | None
    """The phrases as one alternation: one search finds whether any of them is in a message."""


@dataclass(frozen=True, slots=True)
class Lexicon:
    service_words_ru: dict[str, tuple[str, ...]]
    service_words_en: dict[str, tuple[str, ...]]
    service_titles_en: dict[str, str]
    service_descriptions_en: dict[str, str]
    categories_en: dict[str, str]
    intents: dict[str, IntentRule]
    thanks: re.Pattern[str]
    closing: re.Pattern[str]
    names: dict[str, frozenset[str]]
    """Canonical first name -> the other forms clients write."""


def _rule(raw: dict[str, Any]) -> IntentRule:
    phrases = tuple(re.compile(str(phrase)) for phrase in raw.get("phrases", []))
    return IntentRule(
        lemmas=frozenset(str(lemma).replace("ё", "е") for lemma in raw.get("lemmas", [])),
        phrases=phrases,
        any_phrase=re.compile("|".join(f"(?:{phrase.pattern})" for phrase in phrases)) if phrases else None,
    )


@cache
def lexicon() -> Lexicon:
    raw = yaml.safe_load((_HERE / "lexicon.yaml").read_text(encoding="utf-8"))
    names = yaml.safe_load((_HERE / "names.yaml").read_text(encoding="utf-8"))
    return Lexicon(
        service_words_ru={key: tuple(value) for key, value in raw["service_words"]["ru"].items()},
        service_words_en={key: tuple(value) for key, value in raw["service_words"]["en"].items()},
        service_titles_en={key.lower(): value for key, value in raw["service_titles_en"].items()},
        service_descriptions_en={key.lower(): value for key, value in raw["service_descriptions_en"].items()},
        categories_en={key.lower(): value for key, value in raw["categories_en"].items()},
        intents={name: _rule(rule) for name, rule in raw["intents"].items()},
        thanks=re.compile(raw["thanks"], re.IGNORECASE),
        closing=re.compile(raw["closing"], re.IGNORECASE),
        names={key: frozenset(value) for key, value in names.items()},
    )
