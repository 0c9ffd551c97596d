"""What the page says: the session's status, phones, times and a turn's commands, in plain words."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import phonenumbers

from services.wa_gateway.state import SessionState
from shared.wire import SessionStatus


@dataclass(frozen=True, slots=True)
class StatusWords:
    headline: str
    advice: str
    tone: str
    """``ok``, ``wait`` or ``bad``: the colour of the status box."""
    show_qr: bool = False
    show_reconnect: bool = False


def phone_text(chat: str) -> str:
    """``79001234567`` -> ``+7 900 123-45-67``; a group id or anything unparsable as it is."""
    if not chat.isdigit():
        return chat
    try:
        number = phonenumbers.parse("+" + chat)
    except phonenumbers.NumberParseException:
        return "+" + chat
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def time_text(at: float | None) -> str:
    """Unix seconds in UTC; the page's script rewrites it into the browser's own time zone."""
    if at is None:
        return ""
    return datetime.fromtimestamp(at, UTC).strftime("%d %b %Y, %H:%M UTC")


def iso_time(at: float | None) -> str:
    return "" if at is None else datetime.fromtimestamp(at, UTC).isoformat()


def ago_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)} min"
    return f"{seconds / 3600:.1f} h"


def describe_status(state: SessionState, transport: str) -> StatusWords:
    status = state.status
    reason = f" ({state.reason})" if state.reason else ""
    if status is SessionStatus.CONNECTED:
        who = phone_text(state.phone_number) if state.phone_number else "the salon's number"
        simulated = " (the simulator, not the real WhatsApp)" if transport == "simulator" else ""
        return StatusWords(f"Connected as {who}{simulated}", "Messages come in and replies go out.", "ok")
    if status is SessionStatus.QR:
        return StatusWords(
            "Waiting for a QR scan",
            "On the salon's phone open WhatsApp › Settings › Linked devices › Link a device, and point the"
            " camera at this code. It changes every few seconds; this page shows the newest.",
            "wait",
            show_qr=True,
        )
    if status is SessionStatus.QR_EXPIRED:
        return StatusWords(
            "The QR code expired without a scan",
            "Press Reconnect for a new code, or link the phone by its number below.",
            "bad",
            show_reconnect=True,
        )
    if status is SessionStatus.PAIRED:
        return StatusWords("Phone linked; finishing the connection…", "This takes a few seconds.", "wait")
    if status in (SessionStatus.STARTING, SessionStatus.CONNECTING):
        return StatusWords("Connecting to WhatsApp…", "This takes a few seconds.", "wait")
    if status is SessionStatus.STANDBY:
        return StatusWords(
            "Standing by: another gateway holds this WhatsApp number",
            f"Only one program may use the number at a time. This one takes over by itself if the other stops{reason}.",
            "wait",
        )
    if status is SessionStatus.DISCONNECTED:
        return StatusWords(
            "WhatsApp unreachable",
            f"Trying again by itself{reason}. Replies wait until the connection is back.",
            "bad",
            show_reconnect=True,
        )
    if status is SessionStatus.REPLACED:
        return StatusWords(
            "Replaced by another device",
            "Another program opened this WhatsApp session, so this one stopped and will not reconnect by"
            " itself (two programs on one number make WhatsApp cut both). Close the other one, then press"
            " Reconnect.",
            "bad",
            show_reconnect=True,
        )
    if status is SessionStatus.LOGGED_OUT:
        return StatusWords(
            "Logged out",
            "The phone unlinked this device. Press Reconnect to get a QR code, or link by phone number below.",
            "bad",
            show_reconnect=True,
        )
    if status is SessionStatus.BANNED:
        until = f" until {time_text(state.ban_expires_at)}" if state.ban_expires_at else ""
        return StatusWords(
            f"Banned by WhatsApp{until}",
            "WhatsApp refuses this number for now. Wait until the ban ends, then press Reconnect.",
            "bad",
            show_reconnect=True,
        )
    if status is SessionStatus.OUTDATED:
        return StatusWords(
            "WhatsApp says this program is out of date",
            "Update the gateway (its WhatsApp library), then restart it.",
            "bad",
            show_reconnect=True,
        )
    return StatusWords("Stopped", f"Press Reconnect to start again{reason}.", "bad", show_reconnect=True)


def command_text(command: dict[str, object]) -> str:
    """One command of a turn: ``find_slots(service=manicure) → found``; anything else as JSON."""
    name = command.get("name")
    if not isinstance(name, str):
        return json.dumps(command, ensure_ascii=False, default=str)
    params = command.get("params")
    shown = ""
    if isinstance(params, dict) and params:
        shown = ", ".join(
            f"{key}={json.dumps(value, ensure_ascii=False, default=str)}" for key, value in params.items()
        )
    outcome = command.get("outcome")
    return f"{name}({shown})" + (f" → {outcome}" if outcome else "")


def command_details(command: dict[str, object]) -> str:
    data = command.get("data")
    return json.dumps(data, ensure_ascii=False, indent=1, default=str) if data else ""
