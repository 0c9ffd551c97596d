"""Map neonize 0.5.2 protobuf events to the gateway's transport dataclasses.

Everything here is a pure function of the event, except that resolving a LID sender to a
phone number may need the client's store, so that step is an async callback passed in.
neonize ships no type stubs: event parameters are ``Any`` and every value read from them
is converted to a plain ``str``/``int``/``bool`` before it leaves this module.
"""

from __future__ import annotations

# Must run before anything imports neonize (see the module).
import services.wa_gateway.transport.neonize_import  # noqa: F401

# isort: split

import time
from collections.abc import Awaitable, Callable
from typing import Any

from neonize.aioze.events import (
    ClientOutdatedEv,
    ConnectedEv,
    ConnectFailureEv,
    DisconnectedEv,
    LoggedOutEv,
    PairStatusEv,
    StreamReplacedEv,
    TemporaryBanEv,
)
from neonize.proto.Neonize_pb2 import ConnectFailureReason
from neonize.utils.message import extract_text

from services.wa_gateway.transport.base import (
    IncomingReaction,
    TransportEvent,
    TransportEventType,
    WhatsAppMessage,
)
from shared.logging import get_logger

log = get_logger(__name__)

LidResolver = Callable[[Any], Awaitable[str | None]]
"""Given a ``@lid`` JID proto, return the phone number's digits, or None when unknown."""

PHONE_SERVERS = frozenset({"s.whatsapp.net", "c.us"})
LID_SERVER = "lid"
GROUP_SERVER = "g.us"
SKIPPED_CHAT_SERVERS = frozenset({"broadcast", "newsletter"})
"""``status@broadcast`` (statuses), broadcast-list copies and channels are not conversations."""

_MEDIA: tuple[tuple[str, str, str], ...] = (
    # (field of waE2E.Message, kind, placeholder when there is no caption)
    ("imageMessage", "image", "[image]"),
    ("videoMessage", "video", "[video]"),
    ("ptvMessage", "video", "[video]"),  # round "video notes"
    ("documentMessage", "document", "[document]"),
    ("stickerMessage", "sticker", "[sticker]"),
    ("lottieStickerMessage", "sticker", "[sticker]"),
    ("locationMessage", "location", "[location]"),
    ("liveLocationMessage", "location", "[location]"),
    ("contactMessage", "contact", "[contact]"),
    ("contactsArrayMessage", "contact", "[contact]"),
    ("pollCreationMessage", "poll", "[poll]"),
    ("pollCreationMessageV2", "poll", "[poll]"),
    ("pollCreationMessageV3", "poll", "[poll]"),
)


# --- JIDs ---


def jid_user(jid: Any) -> str:
    """The user part of a JID proto without any ``:device`` suffix.

    The ``User`` field normally has no device part, but neonize's own device listing puts it
    there (docs/neonize.md §2), so strip it defensively.
    """
    return str(jid.User).split(":", 1)[0]


def jid_user_from_string(text: str) -> str:
    """``79001234567.0:12@s.whatsapp.net`` -> ``79001234567`` (the form whatsmeow stores)."""
    user = text.split("@", 1)[0]
    return user.split(":", 1)[0].split(".", 1)[0]


def _is_empty(jid: Any) -> bool:
    return not str(jid.User)


async def _phone_of(jid: Any, alternative: Any | None, resolve_lid: LidResolver | None) -> str | None:
    """Phone digits for a personal JID; a ``@lid`` goes through ``alternative`` or the resolver."""
    server = str(jid.Server)
    if server in PHONE_SERVERS:
        return jid_user(jid) or None
    if server != LID_SERVER:
        return None
    if alternative is not None and not _is_empty(alternative) and str(alternative.Server) in PHONE_SERVERS:
        return jid_user(alternative)
    if resolve_lid is None:
        return None
    try:
        phone = await resolve_lid(jid)
    except Exception as error:  # resolution is best effort; the caller skips the message
        log.warning("Could not resolve a LID to a phone number", lid=jid_user(jid), error=str(error))
        return None
    return phone or None


# --- message content ---


def message_content(message: Any) -> tuple[str, str] | None:
    """(text, kind) of a ``waE2E.Message``, or None when it carries nothing a person wrote.

    A caption becomes the text; media without one becomes a placeholder naming its type, so
    the receptionist knows a photo or voice note arrived instead of seeing an empty message.
    """
    text = str(extract_text(message))
    for field, kind, placeholder in _MEDIA:
        if message.HasField(field):
            return (text if text.strip() else placeholder), kind
    if message.HasField("audioMessage"):
        if message.audioMessage.PTT:
            return "[voice message]", "voice"
        return "[audio]", "audio"
    if text.strip():
        return text, "text"
    return None


def _present_fields(message: Any) -> list[str]:
    return [str(field.name) for field, _value in message.ListFields()]


# --- MessageEv ---


def skip_reason(ev: Any, *, allow_groups: bool) -> str | None:
    """Why a ``MessageEv`` is not for the receptionist, or None when it may be."""
    source = ev.Info.MessageSource
    chat_server = str(source.Chat.Server)
    if chat_server in SKIPPED_CHAT_SERVERS:
        return f"{chat_server} message"
    if (bool(source.IsGroup) or chat_server == GROUP_SERVER) and not allow_groups:
        return "group message (WA_ALLOW_GROUPS is off)"
    if not ev.HasField("Message"):
        return "no content"
    if ev.Message.HasField("protocolMessage") or bool(ev.IsEdit):
        # Revokes, edits and key/sync notifications: the original was already handled.
        return "protocol message"
    return None


async def message_event(
    ev: Any,
    *,
    allow_groups: bool,
    resolve_lid: LidResolver | None = None,
) -> TransportEvent | None:
    """A MESSAGE or REACTION event for a neonize ``MessageEv``, or None when it must be skipped.

    Messages the salon sent from its own phone are passed on with ``from_me=True``: the
    session drops them, and keeping the decision there means one rule for every transport.
    Own reactions, though, are dropped here because ``IncomingReaction`` has no such flag.
    """
    message_id = str(ev.Info.ID)
    reason = skip_reason(ev, allow_groups=allow_groups)
    if reason is not None:
        log.debug("Skipping a WhatsApp message", message_id=message_id, reason=reason)
        return None
    source = ev.Info.MessageSource
    sender = await _phone_of(source.Sender, source.SenderAlt, resolve_lid)
    if sender is None:
        # Never fall back to the LID digits: sending to them as a phone number would reach a stranger.
        log.warning(
            "Skipping a message whose sender has no known phone number",
            message_id=message_id,
            sender_server=str(source.Sender.Server),
        )
        return None
    if ev.Message.HasField("reactionMessage"):
        return _reaction_event(ev, sender)
    return await _message_event(ev, sender, resolve_lid)


def _reaction_event(ev: Any, sender: str) -> TransportEvent | None:
    if bool(ev.Info.MessageSource.IsFromMe):
        return None
    reaction = ev.Message.reactionMessage
    return TransportEvent(
        TransportEventType.REACTION,
        reaction=IncomingReaction(
            sender=sender,
            message_id=str(reaction.key.ID),
            emoji=str(reaction.text),  # empty when the reaction was removed
            timestamp_ms=int(reaction.senderTimestampMS) or _timestamp_ms(ev),
        ),
    )


def _timestamp_ms(ev: Any) -> int:
    return int(ev.Info.Timestamp) or int(time.time() * 1000)


async def _message_event(ev: Any, sender: str, resolve_lid: LidResolver | None) -> TransportEvent | None:
    info = ev.Info
    source = info.MessageSource
    message_id = str(info.ID)
    content = message_content(ev.Message)
    if content is None:
        log.info(
            "Skipping a message type the receptionist cannot use",
            message_id=message_id,
            fields=_present_fields(ev.Message),
        )
        return None
    text, kind = content
    chat_jid = source.Chat
    from_me = bool(source.IsFromMe)
    is_group = bool(source.IsGroup) or str(chat_jid.Server) == GROUP_SERVER
    if is_group:
        chat: str | None = jid_user(chat_jid)
    elif not from_me and str(chat_jid.Server) == LID_SERVER and jid_user(chat_jid) == jid_user(source.Sender):
        chat = sender
    else:
        # From our own phone the chat is the recipient, whose phone is in RecipientAlt.
        chat = await _phone_of(chat_jid, source.RecipientAlt, resolve_lid)
    if chat is None:
        log.warning("Skipping a message whose chat has no known phone number", message_id=message_id)
        return None
    return TransportEvent(
        TransportEventType.MESSAGE,
        message=WhatsAppMessage(
            chat=chat,
            sender=sender,
            message_id=message_id,
            text=text,
            timestamp_ms=_timestamp_ms(ev),
            push_name=str(info.Pushname) or None,
            kind=kind,
            from_me=from_me,
            is_group=is_group,
        ),
    )


# --- connection events ---


def _failure_reason_name(value: int) -> str:
    try:
        return str(ConnectFailureReason.Name(value))
    except ValueError:
        return f"reason {value}"


def _logged_out(ev: Any, _now: float) -> TransportEvent:
    when = "while connecting" if ev.OnConnect else "by WhatsApp"
    return TransportEvent(
        TransportEventType.LOGGED_OUT, reason=f"logged out {when}: {_failure_reason_name(int(ev.Reason))}"
    )


def _temporary_ban(ev: Any, now: float) -> TransportEvent:
    try:
        code = str(TemporaryBanEv.TempBanReason.Name(int(ev.Code)))
    except ValueError:
        code = f"code {int(ev.Code)}"
    seconds = int(ev.Expire)
    # neonize encodes whatsmeow's Expire (a duration) as whole seconds; report the unix time it ends.
    return TransportEvent(
        TransportEventType.TEMPORARY_BAN,
        reason=f"temporary ban: {code}, {seconds} s left",
        expires_at=int(now) + seconds,
    )


def _connect_failure(ev: Any, _now: float) -> TransportEvent:
    detail = str(ev.Message)
    reason = f"connect failure: {_failure_reason_name(int(ev.Reason))}" + (f" ({detail})" if detail else "")
    return TransportEvent(TransportEventType.CONNECT_FAILED, reason=reason)


def _pair_status(ev: Any, _now: float) -> TransportEvent:
    if int(ev.Status) == PairStatusEv.SUCCESS:
        return TransportEvent(TransportEventType.PAIRED, phone_number=jid_user(ev.ID) or None)
    return TransportEvent(
        TransportEventType.CONNECT_FAILED, reason=f"pairing failed: {str(ev.Error) or 'unknown error'}"
    )


_CONNECTION_EVENTS: dict[type[Any], Callable[[Any, float], TransportEvent]] = {
    ConnectedEv: lambda _ev, _now: TransportEvent(TransportEventType.CONNECTED),
    DisconnectedEv: lambda _ev, _now: TransportEvent(
        TransportEventType.DISCONNECTED, reason="connection to WhatsApp lost"
    ),
    StreamReplacedEv: lambda _ev, _now: TransportEvent(TransportEventType.REPLACED, reason="stream replaced (440)"),
    LoggedOutEv: _logged_out,
    TemporaryBanEv: _temporary_ban,
    ClientOutdatedEv: lambda _ev, _now: TransportEvent(TransportEventType.OUTDATED, reason="client outdated (405)"),
    ConnectFailureEv: _connect_failure,
    PairStatusEv: _pair_status,
}

CONNECTION_EVENT_TYPES: tuple[type[Any], ...] = tuple(_CONNECTION_EVENTS)
"""The neonize event classes :func:`connection_event` maps; the transport subscribes to all of them."""


def connection_event(ev: Any, *, now: float | None = None) -> TransportEvent | None:
    """The transport event for a neonize connection event, or None for any other event."""
    build = _CONNECTION_EVENTS.get(type(ev))
    if build is None:
        return None
    return build(ev, time.time() if now is None else now)
