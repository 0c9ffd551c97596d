"""Russian morphology (pymorphy3): lemmas to match any grammatical case, inflection to write correct ones.

The analyzer loads its dictionaries once per process (about 0.1 s, 15 MB); the worker loads it before
it forks its worker processes, so every one of them shares it. The caches below are each process's own
and live as long as it does (days): they are bounded to a few MB (about 1 MB per 1000 words).
"""

from __future__ import annotations

from functools import lru_cache

import pymorphy3
from pymorphy3.analyzer import Parse

_analyzer: pymorphy3.MorphAnalyzer | None = None

WORDS_CACHED = 8192
"""A salon's clients use a few thousand distinct words; beyond that a miss costs one parse (tens of microseconds)."""

MIN_PARSE_SCORE = 0.05
"""Parses less likely than this are noise ("Ане" as the noun "ана") but keep rarer real readings."""


def analyzer() -> pymorphy3.MorphAnalyzer:
    global _analyzer  # noqa: PLW0603 - one analyzer per process is the point
    if _analyzer is None:
        _analyzer = pymorphy3.MorphAnalyzer()
    return _analyzer


@lru_cache(maxsize=WORDS_CACHED)
def parses(word: str) -> tuple[Parse, ...]:
    return tuple(analyzer().parse(word))


@lru_cache(maxsize=WORDS_CACHED)
def lemmas(word: str) -> frozenset[str]:
    """Every plausible dictionary form of a lower-case word; Latin words and numbers stay as they are."""
    if not word or not any("а" <= ch <= "я" or ch == "ё" for ch in word):
        return frozenset({word})
    forms = {parse.normal_form.replace("ё", "е") for parse in parses(word) if parse.score >= MIN_PARSE_SCORE}
    return frozenset(forms or {word})


def best_lemma(word: str) -> str:
    found = parses(word)
    return found[0].normal_form.replace("ё", "е") if found else word


def is_known(word: str) -> bool:
    return bool(analyzer().word_is_known(word))


def has_tag(word: str, *grammemes: str) -> bool:
    return any(all(grammeme in parse.tag for grammeme in grammemes) for parse in parses(word))


def _nominative(word: str, *prefer: str) -> Parse | None:
    candidates = [parse for parse in parses(word.lower()) if "nomn" in parse.tag]
    for grammeme in prefer:
        preferred = [parse for parse in candidates if grammeme in parse.tag]
        if preferred:
            return preferred[0]
    return candidates[0] if candidates else None


def _keep_case(original: str, inflected: str) -> str:
    if original[:1].isupper():
        return inflected[:1].upper() + inflected[1:]
    return inflected


def inflect_phrase(phrase: str, case: str) -> str:
    """A service title in another case: leading adjectives and the first noun change, the rest stays.

    "Мужская стрижка" -> "мужскую стрижку"; "Коррекция бровей" -> "коррекцию бровей".
    """
    words = phrase.split()
    result = []
    done = False
    for word in words:
        if done or not any("а" <= ch.lower() <= "я" for ch in word):
            result.append(word)
            continue
        parse = _nominative(word)
        if parse is None:
            result.append(word)
            done = True
            continue
        inflected = parse.inflect({case})
        result.append(_keep_case(word, inflected.word) if inflected else word)
        if "NOUN" in parse.tag:
            done = True
    return " ".join(result)


def inflect_person(full_name: str, case: str) -> str:
    """ "Анна Смирнова" -> "Анне Смирновой" (dative); the surname follows the first name's gender."""
    words = full_name.split()
    if not words:
        return full_name
    first = _nominative(words[0], "Name")
    gender = "femn" if first is not None and "femn" in first.tag else "masc"
    result = []
    for index, word in enumerate(words):
        parse = _nominative(word, "Name") if index == 0 else _nominative(word, "Surn")
        if parse is None or not ({"Name", "Surn", "Patr"} & set(parse.tag.grammemes)):
            result.append(word)
            continue
        inflected = parse.inflect({case, gender}) or parse.inflect({case})
        result.append(_keep_case(word, inflected.word) if inflected else word)
    return " ".join(result)


@lru_cache(maxsize=2048)
def all_forms(word: str) -> frozenset[str]:
    """Every inflected form of a name or noun in its most likely reading: "анна" -> "анне", "анной"..."""
    found = parses(word)
    if not found:
        return frozenset({word})
    named = [parse for parse in found if {"Name", "Surn"} & set(parse.tag.grammemes)] or list(found)
    return frozenset({word} | {form.word.replace("ё", "е") for form in named[0].lexeme})
