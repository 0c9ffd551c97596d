"""The dialogue corpus (``tests/dialogues/*.yaml``): loading it, playing it, and judging the end state.

A dialogue is judged as τ-bench judges an agent: by the state the booking backend ends in (the
client's bookings must be exactly the expected ones, and nobody else's may change), plus the
outputs a turn requires (a reaction, silence, a phrase) and the rules every reply must keep (no
markdown, one greeting, never a claim of a change the backend did not make). The same judge runs
in-process (``tests/worker/test_dialogues.py``) and through the real stack (``make eval``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

CORPUS = Path(__file__).resolve().parents[1] / "dialogues"
SALON_ZONE = ZoneInfo("Europe/Moscow")
CORPUS_NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SALON_ZONE)
"""Every dialogue happens at this moment (a Monday morning): "завтра" is always the 24th."""
OTHER_CLIENT = "79990001111"
"""The phone of "another client" in a dialogue's given bookings and occupied times."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BookingSpec(_Model):
    service: int
    staff: int | None = None
    """None in an expectation: any staff member will do."""
    at: datetime
    client: Literal["me", "other"] = "me"

    @field_validator("at", mode="before")
    @classmethod
    def _salon_time(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=SALON_ZONE)
        return value


class TurnExpect(_Model):
    reply_contains: list[str] = Field(default_factory=list)
    reply_contains_any: list[str] = Field(default_factory=list)
    reply_not_contains: list[str] = Field(default_factory=list)
    silent: bool = False
    reaction: str | None = None


class Turn(_Model):
    client: str | list[str] | None = None
    occupy: BookingSpec | None = None
    expect: TurnExpect = Field(default_factory=TurnExpect)

    @property
    def messages(self) -> list[str]:
        if self.client is None:
            return []
        return [self.client] if isinstance(self.client, str) else list(self.client)


class Given(_Model):
    bookings: list[BookingSpec] = Field(default_factory=list)
    client_name: str | None = None
    """A name the salon already knows (said in an earlier turn of the dialogue)."""


class DialogueExpect(_Model):
    bookings: list[BookingSpec]


class Dialogue(_Model):
    id: str
    description: str = ""
    lang: Literal["ru", "en"] = "ru"
    category: str = ""
    push_name: str | None = None
    given: Given = Field(default_factory=Given)
    turns: list[Turn]
    expect: DialogueExpect


class CorpusFile(_Model):
    category: str
    dialogues: list[Dialogue]


def load_corpus(directory: Path = CORPUS) -> list[Dialogue]:
    dialogues: list[Dialogue] = []
    for path in sorted(directory.glob("*.yaml")):
        corpus = CorpusFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        for dialogue in corpus.dialogues:
            dialogue.category = dialogue.category or corpus.category
            dialogues.append(dialogue)
    ids = [dialogue.id for dialogue in dialogues]
    duplicates = {identifier for identifier in ids if ids.count(identifier) > 1}
    assert not duplicates, f"dialogue ids must be unique: {sorted(duplicates)}"
    return dialogues


def phone_for(index: int) -> str:
    return f"7901{index:07d}"


# --- what a runner does ---


@dataclass(frozen=True)
class BookedVisit:
    service: int
    staff: int
    at: datetime
    phone: str


@dataclass
class TurnResult:
    parts: list[str] = field(default_factory=list)
    reactions: list[str] = field(default_factory=list)


class Runner(Protocol):
    def start_dialogue(self, dialogue: Dialogue, phone: str) -> None:
        """A clean salon with ``dialogue.given`` in it; a client with no history."""
        ...

    def say(self, phone: str, messages: list[str], push_name: str | None) -> TurnResult: ...

    def occupy(self, spec: BookingSpec) -> None:
        """Another client takes a time, directly at the backend (between the bot's offer and the pick)."""
        ...

    def visits(self) -> list[BookedVisit]:
        """Every active upcoming booking in the backend, read from the backend's own state."""
        ...


# --- judging ---

_MARKDOWN = re.compile(r"[*_~]")
_GREETINGS = re.compile(r"\b(доброе утро|добрый день|добрый вечер|здравствуйте|good morning|good afternoon|"
                        r"good evening|hello)\b", re.IGNORECASE)  # fmt: skip
_HELP = re.compile(r"чем ещё могу помочь|чем еще могу помочь|anything else i can help", re.IGNORECASE)
_CLAIMS = {
    "booked": re.compile(r"готово! вы записаны|вы записаны на|you are booked|done! you are booked", re.IGNORECASE),
    "cancelled": re.compile(r"\bотменена\b|\bis cancelled\b", re.IGNORECASE),
    "moved": re.compile(r"запись перенесена|booking is moved", re.IGNORECASE),
}
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


@dataclass
class Verdict:
    dialogue: Dialogue
    turns: int = 0
    failures: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def _key(visit: BookedVisit) -> tuple[int, datetime]:
    return visit.service, visit.at


def _matches(spec: BookingSpec, visit: BookedVisit) -> bool:
    return spec.service == visit.service and spec.at == visit.at and spec.staff in (None, visit.staff)


def _check_reply(verdict: Verdict, number: int, text: str, lang: str) -> None:
    if _MARKDOWN.search(text):
        verdict.failures.append(f"turn {number}: WhatsApp markdown in the reply: {text!r}")
    if lang == "en":
        letters = len(_CYRILLIC.findall(text)) + len(_LATIN.findall(text))
        # Addresses and catalog titles may stay Russian; the sentences must not.
        if letters and len(_CYRILLIC.findall(text)) > 0.35 * letters:
            verdict.failures.append(f"turn {number}: an English client got a Russian reply: {text!r}")


def _check_claims(
    verdict: Verdict, number: int, text: str, before: list[BookedVisit], after: list[BookedVisit]
) -> None:
    old, new = {_key(v) for v in before}, {_key(v) for v in after}
    made = bool(new - old)
    removed = bool(old - new)
    if (
        _CLAIMS["booked"].search(text)
        and not made
        and "уже записаны" not in text.lower()
        and "already booked" not in text.lower()
    ):
        verdict.failures.append(f"turn {number}: said a booking was made but the backend has none new: {text!r}")
    if _CLAIMS["cancelled"].search(text) and not removed:
        verdict.failures.append(f"turn {number}: said a booking was cancelled but none was: {text!r}")
    if _CLAIMS["moved"].search(text) and not (made and removed):
        verdict.failures.append(f"turn {number}: said a booking was moved but none was: {text!r}")


def _check_expect(verdict: Verdict, number: int, expect: TurnExpect, result: TurnResult) -> None:
    text = "\n".join(result.parts)
    low = text.lower()
    for phrase in expect.reply_contains:
        if phrase.lower() not in low:
            verdict.failures.append(f"turn {number}: reply lacks {phrase!r}: {text!r}")
    if expect.reply_contains_any and not any(phrase.lower() in low for phrase in expect.reply_contains_any):
        verdict.failures.append(f"turn {number}: reply has none of {expect.reply_contains_any}: {text!r}")
    for phrase in expect.reply_not_contains:
        if phrase.lower() in low:
            verdict.failures.append(f"turn {number}: reply must not say {phrase!r}: {text!r}")
    if expect.silent and result.parts:
        verdict.failures.append(f"turn {number}: expected no text, got {text!r}")
    if expect.reaction and expect.reaction not in result.reactions:
        verdict.failures.append(f"turn {number}: expected the reaction {expect.reaction}, got {result.reactions}")


def play(runner: Runner, dialogue: Dialogue, phone: str) -> Verdict:
    verdict = Verdict(dialogue)
    runner.start_dialogue(dialogue, phone)
    others_before = sorted((v for v in runner.visits() if v.phone != phone), key=_key)
    occupied: list[BookedVisit] = []
    greetings = helps = 0
    for number, turn in enumerate(dialogue.turns, 1):
        if turn.occupy is not None:
            runner.occupy(turn.occupy)
            occupied.extend(v for v in runner.visits() if v.phone != phone and _matches(turn.occupy, v))
            verdict.transcript.append(f"[someone else books {turn.occupy.at:%a %d %H:%M}]")
            continue
        before = [v for v in runner.visits() if v.phone == phone]
        result = runner.say(phone, turn.messages, dialogue.push_name)
        after = [v for v in runner.visits() if v.phone == phone]
        verdict.turns += 1
        text = "\n".join(result.parts)
        verdict.transcript.append(f"client: {' / '.join(turn.messages)}")
        verdict.transcript.append(
            f"bot: {text or '(no text)'}{' ' + ' '.join(result.reactions) if result.reactions else ''}"
        )
        greetings += len(_GREETINGS.findall(text))
        helps += len(_HELP.findall(text))
        _check_reply(verdict, number, text, dialogue.lang)
        _check_claims(verdict, number, text, before, after)
        _check_expect(verdict, number, turn.expect, result)
    if greetings > 1:
        verdict.failures.append(f"greeted {greetings} times in one day")
    if helps > 1:
        verdict.failures.append(f"asked 'Чем ещё могу помочь?' {helps} times within 30 minutes")
    mine = [v for v in runner.visits() if v.phone == phone]
    expected = list(dialogue.expect.bookings)
    unmatched = [v for v in mine if not any(_matches(spec, v) for spec in expected)]
    missing = [spec for spec in expected if not any(_matches(spec, v) for v in mine)]
    if unmatched or missing or len(mine) != len(expected):
        verdict.failures.append(
            "end state: expected "
            + (", ".join(f"{s.service}@{s.at:%a %d %H:%M}/{s.staff or 'any'}" for s in expected) or "no bookings")
            + "; the backend has "
            + (", ".join(f"{v.service}@{v.at:%a %d %H:%M}/{v.staff}" for v in mine) or "no bookings")
        )
    others_after = sorted((v for v in runner.visits() if v.phone != phone), key=_key)
    if sorted(others_before + occupied, key=_key) != others_after:
        verdict.failures.append("another client's bookings changed")
    return verdict


def play_all(runner: Runner, dialogues: list[Dialogue]) -> Iterator[Verdict]:
    for index, dialogue in enumerate(dialogues):
        yield play(runner, dialogue, phone_for(index))


def report(verdicts: list[Verdict]) -> dict[str, Any]:
    """Task success per category and overall, and turns per booking (dialogues that end with one)."""
    categories: dict[str, list[bool]] = {}
    for verdict in verdicts:
        categories.setdefault(verdict.dialogue.category, []).append(verdict.passed)
    booking_turns = [
        verdict.turns
        for verdict in verdicts
        if verdict.passed and verdict.dialogue.expect.bookings and not verdict.dialogue.given.bookings
    ]
    return {
        "dialogues": len(verdicts),
        "passed": sum(verdict.passed for verdict in verdicts),
        "success": sum(verdict.passed for verdict in verdicts) / len(verdicts) if verdicts else 0.0,
        "categories": {
            name: {"dialogues": len(results), "passed": sum(results)} for name, results in categories.items()
        },
        "turns_per_booking": sum(booking_turns) / len(booking_turns) if booking_turns else None,
        "failures": {verdict.dialogue.id: verdict.failures for verdict in verdicts if not verdict.passed},
    }
