"""One client turn read into facts: what they want (intents), which service, staff, day and time,
which offered option they pick, and the name they give. No dialogue state here; the policy combines
these facts with what was said before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time

from services.worker.receptionist.understanding.dates import find_date
from services.worker.receptionist.understanding.lexicon import lexicon
from services.worker.receptionist.understanding.matching import ServiceMatcher, StaffMatcher
from services.worker.receptionist.understanding.morphology import has_tag, lemmas, parses
from services.worker.receptionist.understanding.text import Language, Token, detect_language, normalize, tokenize
from services.worker.receptionist.understanding.times import find_time
from shared.booking.models import Service, StaffMember

_ORDINALS = {
    "первый": 1,
    "второй": 2,
    "третий": 3,
    "четвертый": 4,
    "пятый": 5,
    "шестой": 6,
    "седьмой": 7,
    "восьмой": 8,
    "девятый": 9,
    "последний": -1,
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "last": -1,
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
    "4th": 4,
    "5th": 5,
}
_NUMBERED = re.compile(r"(?:№|#|номер|вариант|option|number|no\.)\s*(\d{1,2})\b")
_BARE_NUMBER = re.compile(
    r"^\W*(?:(?:давайте|давай|ну|можно|тогда|лучше|хочу|пусть|let'?s|ok|okay|ок)\W+)*(\d{1,2})\W*"
    r"(?:(?:пожалуйста|please|подойдет|подходит)\W*)?$"
)
_NAME_INTRO = re.compile(
    r"(?:меня\s+зовут|мое\s+имя|моё\s+имя|зовут\s+меня|my\s+name\s+is|call\s+me|(?:^|[,.!?]\s*)(?:я|это|i'?m|i\s+am|this\s+is))"
    r"\s*[-–—:]?\s+([a-zа-я]+(?:\s+[a-zа-я]+)?)"
)
_NOT_A_NAME = frozenset(
    {
        "хочу",
        "бы",
        "буду",
        "не",
        "тоже",
        "уже",
        "записана",
        "записан",
        "свободна",
        "свободен",
        "клиент",
        "клиентка",
        "free",
        "available",
        "here",
        "looking",
        "interested",
        "a",
        "the",
        "not",
        "going",
        "booked",
        "fine",
        "ok",
        "sorry",
        "new",
        "back",
        "late",
        "done",
    }
)
_UNKNOWN_SERVICE_CUE = re.compile(
    r"(?:\bна|\bстоит|\bстоят|\bстоимость|\bцена|\bчто\s+такое|\bделаете(?:\s+ли)?|\bесть(?:\s+ли)?(?:\s+у\s+вас)?"
    r"|\bfor(?:\s+an?)?|\bbook(?:\s+me)?(?:\s+in)?(?:\s+for)?(?:\s+an?)?|\bget(?:\s+an?)?|\bis(?:\s+an?)?"
    r"|\bdo\s+you\s+(?:do|offer|have)(?:\s+an?)?|\boffer)\s+([a-zа-я-]+)"
)
_UNKNOWN_SERVICE_BEFORE = re.compile(r"([a-zа-я-]+)\s+(?:у\s+вас\s+(?:есть|делают|делаете)|делаете|делают)\b")
_NOT_A_SERVICE = frozenset(
    {
        "время",
        "запись",
        "прием",
        "приём",
        "день",
        "неделя",
        "утро",
        "вечер",
        "вечером",
        "утром",
        "обед",
        "завтра",
        "сегодня",
        "послезавтра",
        "выходные",
        "выходных",
        "число",
        "час",
        "полчаса",
        "минута",
        "мастер",
        "мастера",
        "услуга",
        "процедура",
        "консультация",
        "сеанс",
        "визит",
        "мне",
        "меня",
        "нас",
        "него",
        "нее",
        "неё",
        "это",
        "то",
        "тот",
        "ту",
        "какое",
        "какой",
        "ближайшее",
        "ближайший",
        "другое",
        "другой",
        "следующий",
        "следующую",
        "понедельник",
        "вторник",
        "среду",
        "четверг",
        "пятницу",
        "субботу",
        "воскресенье",
        "appointment",
        "time",
        "slot",
        "visit",
        "booking",
        "session",
        "today",
        "tomorrow",
        "friday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "saturday",
        "sunday",
        "week",
        "weekend",
        "the",
        "me",
        "an",
        "a",
        "morning",
        "evening",
        "afternoon",
        "next",
        "same",
        "change",
        "new",
        "different",
        "later",
        "earlier",
        "it",
        "this",
        "that",
        "one",
        "some",
        "any",
        "free",
        "available",
        "with",
        "my",
        "your",
        "our",
        "in",
        "on",
        "at",
        "to",
        "you",
        "i",
        "we",
        "there",
        "here",
        "please",
        "someone",
        "anyone",
        "somebody",
    }
)
_HOW_LONG = re.compile(r"сколько\s+(длится|времени|по времени|идет|у меня)")
""""Сколько" that asks how long, not how much."""
_LETTERS = re.compile(r"[a-zа-я]+")
_SALON_WORDS = frozenset({"записаться", "записать", "запись", "хотеть", "можно", "стоить", "цена", "сколько"})


@dataclass
class Understanding:
    text: str
    language: Language | None
    intents: set[str] = field(default_factory=set)
    services: tuple[Service, ...] = ()
    """One: the service named; several: named ambiguously ("стрижка"); none: not named."""
    unknown_service: str | None = None
    """What the client asked for that the catalog doesn't have ("массаж")."""
    staff: tuple[StaffMember, ...] = ()
    day: date | None = None
    same_day: bool = False
    exact_time: time | None = None
    time_from: time | None = None
    time_to: time | None = None
    shift_minutes: int = 0
    ordinal: int | None = None
    """1-based choice among what was offered; -1 is "the last"."""
    number: int | None = None
    """A bare number ("2", "давайте 15"): an option's number or an hour, by context."""
    client_name: str | None = None
    thanks: bool = False
    closing: bool = False

    @property
    def has_time(self) -> bool:
        return self.exact_time is not None or self.time_from is not None or self.time_to is not None

    @property
    def service(self) -> Service | None:
        return self.services[0] if len(self.services) == 1 else None


def _intents(normalized: str, tokens: Sequence[Token]) -> set[str]:
    found = set()
    token_lemmas: set[str] = set()
    for token in tokens:
        if token.is_cyrillic:
            token_lemmas |= lemmas(token.text)
    for name, rule in lexicon().intents.items():
        if rule.lemmas & token_lemmas or (rule.any_phrase is not None and rule.any_phrase.search(normalized)):
            found.add(name)
    if "сколько" in token_lemmas and not _HOW_LONG.search(normalized):
        found.add("prices")
    return found


def _ordinal(normalized: str, tokens: Sequence[Token]) -> int | None:
    match = _NUMBERED.search(normalized)
    if match:
        return int(match.group(1))
    for token in tokens:
        for form in {token.text, *(lemmas(token.text) if token.is_cyrillic else ())}:
            if form in _ORDINALS:
                return _ORDINALS[form]
    return None


def _name_words(original: str, normalized: str, start: int, end: int) -> str | None:
    words = original[start:end].split()
    kept: list[str] = []
    for word in words:
        low = normalize(word)
        if low in _NOT_A_NAME or low in _SALON_WORDS:
            break
        cyrillic = any("а" <= ch <= "я" for ch in low)
        if cyrillic and not (has_tag(low, "Name") or has_tag(low, "Surn")):
            break
        if not cyrillic and not word[:1].isupper() and kept:
            break
        kept.append(word[:1].upper() + word[1:])
    return " ".join(kept) or None


def find_client_name(original: str, normalized: str, expecting_name: bool) -> str | None:
    """ "Меня зовут Ольга", "I'm Kate"; or, right after we asked, a message that is only a name."""
    match = _NAME_INTRO.search(normalized)
    if match:
        name = _name_words(original, normalized, *match.span(1))
        if name:
            return name
    if expecting_name:
        words = _LETTERS.findall(normalized)
        if 1 <= len(words) <= 3:
            first = words[0]
            is_name = (any("а" <= ch <= "я" for ch in first) and has_tag(first, "Name")) or (
                not any("а" <= ch <= "я" for ch in first) and first not in _NOT_A_NAME
            )
            if is_name:
                start = normalized.index(first)
                return _name_words(original, normalized, start, len(normalized))
    return None


def _unknown_service(normalized: str, used: set[int], tokens: Sequence[Token]) -> str | None:
    """The word after "на"/"for a" when it is a noun that names nothing we know."""
    used_text = {tokens[index].text for index in used}
    found = [*_UNKNOWN_SERVICE_CUE.finditer(normalized), *_UNKNOWN_SERVICE_BEFORE.finditer(normalized)]
    for match in found:
        word = match.group(1)
        if word in used_text or word in _NOT_A_SERVICE or word.isdigit():
            continue
        if any("а" <= ch <= "я" for ch in word):
            readings = parses(word)
            if not readings or "NOUN" not in readings[0].tag or {"Name", "Surn"} & set(readings[0].tag.grammemes):
                continue
            if lemmas(word) & _NOT_A_SERVICE:
                continue
        return word
    return None


def understand(
    text: str,
    today: date,
    services: ServiceMatcher,
    staff: StaffMatcher,
    *,
    expecting_name: bool = False,
    among_services: Sequence[Service] | None = None,
) -> Understanding:
    normalized = normalize(text)
    tokens = tokenize(normalized)
    words = lexicon()
    result = Understanding(text=normalized, language=detect_language(text))
    result.thanks = bool(words.thanks.search(normalized))
    result.closing = bool(words.closing.search(normalized))
    result.intents = _intents(normalized, tokens)

    result.client_name = find_client_name(text, normalized, expecting_name)
    name_tokens = frozenset(
        index
        for index, token in enumerate(tokens)
        if result.client_name and token.text in normalize(result.client_name).split()
    )

    found_date = find_date(normalized, today)
    result.day, result.same_day = found_date.day, found_date.same_day
    found_time = find_time(normalized, found_date.spans)
    result.exact_time, result.time_from, result.time_to = found_time.exact, found_time.start, found_time.end
    result.shift_minutes = found_time.shift_minutes

    service_match = services.match(tokens, among_services) if among_services else services.match(tokens)
    if among_services and not service_match.services:
        service_match = services.match(tokens)
    staff_match = staff.match(tokens, skip=name_tokens | service_match.tokens)
    result.staff = staff_match.staff
    result.services = service_match.services
    if result.staff and len(result.services) > 1:
        theirs = tuple(s for s in result.services if any(s.id in m.service_ids for m in result.staff))
        result.services = theirs or result.services
    if not result.services:
        taken = set(staff_match.tokens) | set(name_tokens)
        result.unknown_service = _unknown_service(normalized, taken, tokens)

    result.ordinal = _ordinal(normalized, tokens)
    bare = _BARE_NUMBER.match(normalized)
    if bare:
        result.number = int(bare.group(1))
    return result
