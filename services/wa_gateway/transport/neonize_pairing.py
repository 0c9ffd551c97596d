"""Pairing by an 8-character code typed on the phone instead of a QR scan (docs/neonize.md §2)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from services.wa_gateway.transport.neonize_errors import translated_errors
from shared.errors import InvalidInput, InvalidPhone, TransientError
from shared.logging import get_logger
from shared.phones import normalize_phone

log = get_logger(__name__)

FIRST_QR_TIMEOUT_SECONDS = 20.0
PAIRING_CODE_LENGTH = 8


def format_pairing_code(code: str) -> str:
    """whatsmeow already returns ``ABCD-EFGH``; normalise anyway so the shape never depends on it."""
    compact = code.replace("-", "").strip().upper()
    if len(compact) != PAIRING_CODE_LENGTH:
        return code
    return f"{compact[:4]}-{compact[4:]}"


def pairing_phone_digits(phone: str, default_region: str) -> str:
    """whatsmeow wants international digits only, without ``+`` or a leading ``0``."""
    try:
        return normalize_phone(phone, default_region)
    except InvalidPhone as error:
        raise InvalidInput(f"phone: {error}") from None


async def wait_for_first_qr(first_qr: asyncio.Event) -> None:
    """Before the first QR code whatsmeow has no socket and refuses with "client is nil" (issue #192)."""
    try:
        await asyncio.wait_for(first_qr.wait(), timeout=FIRST_QR_TIMEOUT_SECONDS)
    except TimeoutError:
        raise TransientError("WhatsApp has not offered pairing yet (no QR code); try again shortly") from None


async def request_pairing_code(client: Any, digits: str) -> str:
    with translated_errors():
        code = await client.PairPhone(digits, True)
    return format_pairing_code(str(code))


async def announce_pairing_code(pair_phone: Callable[[str], Awaitable[str]], phone: str, company_id: str) -> None:
    """USE_PAIRING_CODE: nobody asked through the API, so the code goes to the log for the operator."""
    try:
        code = await pair_phone(phone)
    except Exception as error:
        log.error("Could not get a WhatsApp pairing code", error=f"{type(error).__name__}: {error}")
        return
    log.warning(
        f"WhatsApp pairing code: {code} (WhatsApp > Linked devices > Link with phone number)",
        pairing_code=code,
        company_id=company_id,
    )
