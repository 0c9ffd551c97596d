from __future__ import annotations

import pytest

from shared.errors import InvalidPhone
from shared.phones import normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("79001234567", "79001234567"),
        ("+7 (900) 123-45-67", "79001234567"),
        ("89001234567", "79001234567"),
        ("9001234567", "79001234567"),
        ("79001234567@s.whatsapp.net", "79001234567"),
        ("79001234567:12@s.whatsapp.net", "79001234567"),
        ("447911123456", "447911123456"),
    ],
)
def test_phones_are_normalised_to_e164_digits(raw: str, expected: str) -> None:
    assert normalize_phone(raw, "RU") == expected


@pytest.mark.parametrize("raw", ["", "+", "123", "abc", "120363025246125486@g.us", "null"])
def test_what_cannot_be_a_clients_number_is_refused_with_a_reason(raw: str) -> None:
    with pytest.raises(InvalidPhone, match="phone"):
        normalize_phone(raw, "RU")
