"""Phone numbers as WhatsApp sees them: E.164 digits without the plus sign."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from shared.errors import InvalidPhone

_JID_SUFFIXES = ("@s.whatsapp.net", "@c.us")


# A chat's messages, replies and reminders all name the same few phones; parsing and validating one
# with phonenumbers costs about 0.1 ms, which a webhook of ten messages paid ten times.
@lru_cache(maxsize=16384)
def normalize_phone(raw: str, default_region: str = "RU") -> str:
    """``+7 (900) 123-45-67``, ``89001234567`` or ``79001234567@s.whatsapp.net`` -> ``79001234567``.

    Raises InvalidPhone with a message that names what is wrong.
    """
    text = raw.strip()
    for suffix in _JID_SUFFIXES:
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    text = text.split(":", 1)[0]  # a device suffix such as 79001234567:12
    if not text or not any(ch.isdigit() for ch in text):
        raise InvalidPhone(f"phone {raw!r} has no digits")
    if "@" in text:
        raise InvalidPhone(f"phone {raw!r} is not a personal WhatsApp number")
    digits_only = "".join(ch for ch in text if ch.isdigit())
    candidates = [text]
    if not text.startswith("+") and len(digits_only) >= 11:
        # Bare international digits are what WhatsApp itself uses; try them before the national form.
        candidates.insert(0, "+" + digits_only)
    parsed = None
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, default_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            parsed = number
            break
        if parsed is None and phonenumbers.is_possible_number(number):
            parsed = number
    if parsed is None:
        raise InvalidPhone(f"phone {raw!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


GROUP_SUFFIX = "@g.us"
_GROUP_ID = re.compile(r"^\d{5,25}(-\d{5,25})?@g\.us$")


@lru_cache(maxsize=16384)
def normalize_chat(raw: str, default_region: str = "RU") -> str:
    """A client's phone (E.164 digits) or, when groups are enabled, a group id kept as ``<id>@g.us``."""
    text = raw.strip()
    if text.endswith(GROUP_SUFFIX):
        if not _GROUP_ID.match(text):
            raise InvalidPhone(f"chat {raw!r} is not a valid WhatsApp group id")
        return text
    return normalize_phone(text, default_region)
