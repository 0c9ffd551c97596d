"""Finding catalog services and staff in a message: any grammatical case, typos, diminutives, English.

Services are matched by the lemmas of their titles (pymorphy3), with client words mapped through the
lexicon and misspelt words corrected against the catalog's own vocabulary (rapidfuzz). Staff are
matched by first name (with diminutives and Latin spellings) or surname.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from services.worker.receptionist.understanding.lexicon import lexicon
from services.worker.receptionist.understanding.morphology import all_forms, is_known, lemmas
from services.worker.receptionist.understanding.text import Token, normalize, tokenize
from shared.booking.models import Service, StaffMember

TITLE_STOPWORDS = frozenset({"с", "и", "в", "на", "для", "по", "без", "или", "of", "and", "with"})
WEAK_LEMMAS = frozenset({"волос", "покрытие"})
"""Words that narrow a service down but don't name one ("что-то с волосами" is not "окрашивание волос")."""
FUZZY_SERVICE_CUTOFF = 80
FUZZY_NAME_CUTOFF = 80
MIN_FUZZY_LENGTH = 5

_TRANSLIT = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "й": "y",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ъ": "",
        "ы": "y",
        "ь": "",
        "э": "e",
        "ю": "yu",
        "я": "ya",
        "ё": "e",
    }
)


def transliterate(text: str) -> str:
    """Russian names in Latin letters for English replies: "Анна Смирнова" -> "Anna Smirnova"."""
    out = []
    for word in text.split(" "):
        latin = word.lower().translate(_TRANSLIT)
        out.append(latin[:1].upper() + latin[1:] if word[:1].isupper() else latin)
    return " ".join(out)


def title_lemmas(title: str) -> tuple[str, ...]:
    """The lemmas of a title's words, in order, without prepositions: "Маникюр с покрытием гель-лак"."""
    found: list[str] = []
    for token in tokenize(normalize(title)):
        for part in token.text.split("-"):
            if part and part not in TITLE_STOPWORDS and not part.isdigit():
                found.append(_title_lemma(part))
    return tuple(dict.fromkeys(found))


def _title_lemma(word: str) -> str:
    forms = lemmas(word)
    return word if word in forms else sorted(forms, key=len)[0]


@dataclass(frozen=True, slots=True)
class ServiceMatch:
    services: tuple[Service, ...] = ()
    """The best candidates: one means found; several means the client must choose."""
    tokens: frozenset[int] = frozenset()
    """Indices of the message tokens that named the service."""

    @property
    def found(self) -> Service | None:
        return self.services[0] if len(self.services) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.services) > 1


@dataclass
class ServiceMatcher:
    services: Sequence[Service]
    _titles: dict[int, tuple[str, ...]] = field(init=False)
    _vocabulary: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self._titles = {service.id: title_lemmas(service.title) for service in self.services}
        self._vocabulary = sorted({lemma for title in self._titles.values() for lemma in title})

    def _token_lemmas(self, tokens: Sequence[Token]) -> dict[int, set[str]]:
        """Per token, the catalog lemmas it stands for (after the lexicon and typo correction)."""
        words = lexicon()
        vocabulary = set(self._vocabulary)
        found: dict[int, set[str]] = {}
        for index, token in enumerate(tokens):
            text = token.text
            if token.is_number:
                continue
            mapped: set[str] = set()
            if token.is_cyrillic:
                parts = [text, *text.split("-")] if "-" in text else [text]
                for part in parts:
                    forms = lemmas(part)
                    mapped |= forms & vocabulary
                    for form in {part, *forms}:
                        mapped |= set(words.service_words_ru.get(form, ()))
                if not mapped and len(text) >= MIN_FUZZY_LENGTH and not is_known(text):
                    best = process.extractOne(
                        text, self._vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_SERVICE_CUTOFF
                    )
                    if best is not None:
                        mapped.add(best[0])
            else:
                bigram = f"{text} {tokens[index + 1].text}" if index + 1 < len(tokens) else ""
                mapped |= set(words.service_words_en.get(bigram, ()))
                mapped |= set(words.service_words_en.get(text, ()))
                if not mapped and text.endswith("s"):
                    mapped |= set(words.service_words_en.get(text[:-1], ()))
            if mapped:
                found[index] = mapped
        return found

    def match(self, tokens: Sequence[Token], among: Iterable[Service] | None = None) -> ServiceMatch:
        per_token = self._token_lemmas(tokens)
        said = set().union(*per_token.values()) if per_token else set()
        if not said:
            return ServiceMatch()
        pool = list(among) if among is not None else list(self.services)
        scored: list[tuple[tuple[int, int], Service]] = []
        for service in pool:
            title = set(self._titles.get(service.id) or title_lemmas(service.title))
            matched = title & said
            if not matched or not (matched - WEAK_LEMMAS):
                continue
            scored.append(((len(matched), -len(title - said)), service))
        if not scored:
            return ServiceMatch()
        best = max(score for score, _ in scored)
        winners = tuple(service for score, service in scored if score == best)
        used = frozenset(index for index, forms in per_token.items() if forms & said)
        return ServiceMatch(winners, used)

    def find(self, query: str) -> ServiceMatch:
        """A service named in free text (a command parameter from the LLM or the embedded policy)."""
        normalized = normalize(query)
        exact = [service for service in self.services if normalize(service.title) == normalized]
        if exact:
            return ServiceMatch((exact[0],))
        if normalized.isdigit():
            by_id = [service for service in self.services if service.id == int(normalized)]
            if by_id:
                return ServiceMatch((by_id[0],))
        return self.match(tokenize(normalized))


@dataclass(frozen=True, slots=True)
class StaffMatch:
    staff: tuple[StaffMember, ...] = ()
    tokens: frozenset[int] = frozenset()

    @property
    def found(self) -> StaffMember | None:
        return self.staff[0] if len(self.staff) == 1 else None


@dataclass
class StaffMatcher:
    staff: Sequence[StaffMember]
    _forms: dict[int, set[str]] = field(init=False)

    def __post_init__(self) -> None:
        names = lexicon().names
        self._forms = {}
        for member in self.staff:
            words = normalize(member.name).split()
            forms: set[str] = set()
            if words:
                first = _title_lemma(words[0])
                variants = {first, words[0], *names.get(first, ())}
                for variant in variants:
                    forms |= all_forms(variant) if variant.isalpha() and variant[0] >= "а" else {variant}
                forms.add(transliterate(words[0]).lower())
            for surname in words[1:]:
                forms |= {surname, _title_lemma(surname), *lemmas(surname), transliterate(surname).lower()}
            self._forms[member.id] = forms

    def match(self, tokens: Sequence[Token], skip: frozenset[int] = frozenset()) -> StaffMatch:
        hits: dict[int, set[int]] = {}
        for index, token in enumerate(tokens):
            if index in skip or token.is_number or len(token.text) < 2:
                continue
            candidates = {token.text} | (set(lemmas(token.text)) if token.is_cyrillic else set())
            for member_id, forms in self._forms.items():
                if candidates & forms:
                    hits.setdefault(member_id, set()).add(index)
        if not hits:
            hits = self._fuzzy(tokens, skip)
        members = tuple(member for member in self.staff if member.id in hits)
        used = frozenset(index for indices in hits.values() for index in indices)
        return StaffMatch(members, used)

    def _fuzzy(self, tokens: Sequence[Token], skip: frozenset[int]) -> dict[int, set[int]]:
        hits: dict[int, set[int]] = {}
        for index, token in enumerate(tokens):
            if index in skip or token.is_number or len(token.text) < MIN_FUZZY_LENGTH or is_known(token.text):
                continue
            for member_id, forms in self._forms.items():
                if process.extractOne(token.text, list(forms), scorer=fuzz.ratio, score_cutoff=FUZZY_NAME_CUTOFF):
                    hits.setdefault(member_id, set()).add(index)
        return hits

    def find(self, query: str) -> StaffMatch:
        normalized = normalize(query)
        exact = [member for member in self.staff if normalize(member.name) == normalized]
        if exact:
            return StaffMatch((exact[0],))
        if normalized.isdigit():
            by_id = [member for member in self.staff if member.id == int(normalized)]
            if by_id:
                return StaffMatch((by_id[0],))
        return self.match(tokenize(normalized))
