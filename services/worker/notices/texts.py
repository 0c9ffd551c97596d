"""A reminder's or a notice's text, from ``texts.yaml`` (phrasings are data, not code)."""

from __future__ import annotations

import hashlib
import string
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from services.worker.receptionist.replies.format import day_on, person, price, service_acc, service_title
from services.worker.receptionist.replies.format import time_of_day_greeting as time_greeting
from services.worker.receptionist.understanding.text import Language
from shared.booking.models import Booking, Company
from shared.reminders.notice import Notice

TEXTS = Path(__file__).with_name("texts.yaml")
NOT_A_NAME = frozenset({"", "клиент", "клиент whatsapp", "whatsapp"})


@cache
def phrasings() -> dict[str, dict[str, list[str]]]:
    raw: Any = yaml.safe_load(TEXTS.read_text(encoding="utf-8"))
    return {kind: {lang: list(variants) for lang, variants in by_lang.items()} for kind, by_lang in raw.items()}


def first_name(name: str) -> str:
    words = name.split()
    return "" if name.strip().lower() in NOT_A_NAME or not words else words[0]


def notice_text(
    notice: Notice,
    booking: Booking | None,
    company: Company,
    *,
    now: datetime,
    language: Language,
    name: str,
) -> str:
    """The message for ``notice``; ``booking`` is the visit as the backend has it now (None: gone)."""
    variants = phrasings()[notice.kind][language]
    chosen = variants[int(hashlib.sha256(notice.key.encode()).hexdigest(), 16) % len(variants)]
    start = notice.start.astimezone(now.tzinfo)
    title = booking.service if booking is not None else ""
    given = first_name(name)
    values: dict[str, str] = {
        "greeting": time_greeting(now, language) + (f", {given}!" if given else "!"),
        "date": day_on(start.date(), now.date(), language),
        "time": f"{start:%H:%M}",
        "service": service_title(title, language) if title else "",
        "service_acc": service_acc(title, language) if title else "",
        "staff": person(booking.staff, "nomn", language) if booking is not None and booking.staff else "",
        "to_staff": _to_staff(booking.staff, language) if booking is not None and booking.staff else "",
        "price": _price(booking, language),
        "address": company.address,
        "salon": company.title,
        "old_date": "",
        "old_time": "",
    }
    if notice.previous_start is not None:
        old = notice.previous_start.astimezone(now.tzinfo)
        values["old_date"], values["old_time"] = day_on(old.date(), now.date(), language), f"{old:%H:%M}"
    lines = [_line(line, values) for line in chosen.splitlines()]
    text = "\n".join(line for line in lines if line)
    return " ".join(text.split(" ")).replace(" .", ".").replace(" ,", ",")


def _to_staff(name: str, language: Language) -> str:
    return f"with {person(name, 'nomn', 'en')}" if language == "en" else f"к {person(name, 'datv', 'ru')}"


def _price(booking: Booking | None, language: Language) -> str:
    if booking is None or booking.price_min <= 0:
        return ""
    return price({"price_min": booking.price_min, "price_max": booking.price_max}, language)


def _line(line: str, values: dict[str, str]) -> str:
    """The line filled in, or "" when it names variables and every one of them is empty."""
    names = [field for _, field, _, _ in string.Formatter().parse(line) if field]
    if names and not any(values.get(name) for name in names if name != "greeting"):
        return ""
    if any(not values.get(name) for name in names if name in ("price", "address")):
        return ""
    return line.format(**values).strip()
