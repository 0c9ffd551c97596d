"""The "📅 Добавить в календарь" link: a signed, expiring token for one visit, and the visit as an ``.ics``.

The token is ``<payload>.<signature>``, both base64url: the payload is ``{"c": company, "b": visit id,
"e": expiry (unix seconds)}``, the signature HMAC-SHA256 of it with CALENDAR_LINK_SECRET. The api reads
the visit from the backend when the link is opened, so a moved visit downloads at its new time and a
cancelled one is gone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime, timedelta

from shared.booking.models import Booking, Company
from shared.errors import LinkExpired, NotAuthenticated
from shared.wire import CALENDAR_PATH

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,400}\.[A-Za-z0-9_-]{1,100}$"
REMINDER_BEFORE_VISIT = timedelta(hours=2)
"""The calendar's own alarm, like the short reminder."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def calendar_token(secret: str, company_id: str, booking_id: int, expires_at: datetime) -> str:
    payload = _b64(json.dumps({"c": company_id, "b": booking_id, "e": int(expires_at.timestamp())}).encode())
    return f"{payload}.{_signature(secret, payload)}"


def calendar_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + CALENDAR_PATH.format(token=token)


def read_calendar_token(secret: str, token: str, company_id: str, now: datetime) -> int:
    """The visit id a genuine, unexpired token of this company names; NotAuthenticated or LinkExpired otherwise."""
    payload, _, signature = token.partition(".")
    expected = _signature(secret, payload)
    if not secret or not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise NotAuthenticated("this calendar link is not one we made")
    try:
        body = json.loads(_unb64(payload))
        company, visit, expires = str(body["c"]), int(body["b"]), int(body["e"])
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise NotAuthenticated("this calendar link is not one we made") from None
    if company != company_id:
        raise NotAuthenticated("this calendar link is for another salon")
    if now.timestamp() > expires:
        raise LinkExpired("this calendar link has expired; ask the salon for a new one")
    return visit


def visit_ics(booking: Booking, company: Company) -> bytes:
    """One VEVENT for the visit, with the salon's address and an alarm two hours before."""
    # Imported here: only the api serves the .ics, and the worker, which only signs links, would carry the
    # library (about 3 MB) in every one of its processes.
    import icalendar  # noqa: PLC0415

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//AI Admin//visit//RU")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"visit-{booking.id}@{company.id}.ai-admin")
    event.add("dtstamp", booking.changed_at or booking.start)
    event.add("dtstart", booking.start)
    event.add("dtend", booking.start + timedelta(minutes=booking.duration_minutes or 60))
    event.add("summary", f"{booking.service} — {company.title}" if company.title else booking.service)
    if company.address:
        event.add("location", company.address)
    details = [line for line in (f"Мастер: {booking.staff}" if booking.staff else "", company.phone) if line]
    if details:
        event.add("description", "\n".join(details))
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", booking.service)
    alarm.add("trigger", -REMINDER_BEFORE_VISIT)
    event.add_component(alarm)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
