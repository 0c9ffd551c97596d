"""NeonizeTransport driven by real neonize events through neonize's real Go-to-Python dispatch.

No network: events are serialised exactly as Go hands them over and fed to
``client.event.execute`` from another thread (docs/neonize.md §8), so the handlers, the protobuf
decoding and the loop hand-off are neonize's own code.
"""

from __future__ import annotations

# Must run before anything imports neonize (see the module).
import services.wa_gateway.transport.neonize_import  # noqa: F401

# isort: split

import asyncio
import ctypes
import dataclasses
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import neonize.aioze.events as neonize_dispatch
import pytest
from neonize.aioze.events import (
    ConnectedEv,
    LoggedOutEv,
    MessageEv,
    PairStatusEv,
    StreamReplacedEv,
    TemporaryBanEv,
)
from neonize.events import EVENT_TO_INT
from neonize.exc import NeonizeError
from neonize.proto.Neonize_pb2 import (
    JID,
    ConnectFailureReason,
    Device,
    MessageInfo,
    MessageSource,
    SendMessageReturnFunction,
    SendResponse,
)
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import (
    AudioMessage,
    ImageMessage,
    Message,
    ProtocolMessage,
    ReactionMessage,
)
from neonize.utils.jid import build_jid

from services.wa_gateway.journal import Journal
from services.wa_gateway.session import WhatsAppSession
from services.wa_gateway.settings import GatewaySettings
from services.wa_gateway.transport import neonize_qr
from services.wa_gateway.transport import neonize_transport as transport_module
from services.wa_gateway.transport.base import TransportEvent, TransportEventType
from services.wa_gateway.transport.neonize_events import connection_event, message_content, message_event
from services.wa_gateway.transport.neonize_options import NeonizeOptions
from services.wa_gateway.transport.neonize_pairing import format_pairing_code
from services.wa_gateway.transport.neonize_transport import NeonizeTransport
from shared.conversations import ConversationStore
from shared.errors import ConfigurationError, TransientError, WhatsAppNotConnected
from shared.wire import SessionEvent

CUSTOMER = "79001234567"
SALON = "79990002222"
MESSAGE_TS_MS = 1_700_000_000_123
WAIT_SECONDS = 5.0


# --- building real neonize events ---


def lid_jid(user: str) -> Any:
    return JID(User=user, Server="lid", RawAgent=0, Device=0, Integrator=0, IsEmpty=False)


def message_ev(
    message: Any | None = None,
    *,
    sender: Any | None = None,
    chat: Any | None = None,
    sender_alt: Any | None = None,
    from_me: bool = False,
    is_group: bool = False,
    message_id: str = "3EB0AAAABBBBCCCC0001",
    push_name: str = "Alice",
) -> Any:
    sender = sender if sender is not None else build_jid(CUSTOMER)
    source = MessageSource(Chat=chat if chat is not None else sender, Sender=sender, IsFromMe=from_me, IsGroup=is_group)
    if sender_alt is not None:
        source.SenderAlt.CopyFrom(sender_alt)
    info = MessageInfo(MessageSource=source, ID=message_id, Pushname=push_name, Timestamp=MESSAGE_TS_MS)
    return MessageEv(Info=info, Message=message if message is not None else Message(conversation="hello world"))


def execute_in_go_thread(client: Any, ev: Any) -> None:
    """What Go's callback does: hand neonize a pointer to the serialised event."""
    data = ev.SerializePartialToString()  # proto2 required fields make SerializeToString() refuse
    buffer = ctypes.create_string_buffer(data, len(data) + 1)
    client.event.execute(0, ctypes.addressof(buffer), len(data), EVENT_TO_INT[type(ev)])


async def dispatch(client: Any, ev: Any) -> None:
    await asyncio.to_thread(execute_in_go_thread, client, ev)


async def deliver_qr(client: Any, qr: str) -> None:
    """Go's QR callback: a NUL-terminated string at an address, through neonize's own __onQr."""
    buffer = ctypes.create_string_buffer(qr.encode())
    on_qr = client._NewAClient__onQr
    await asyncio.to_thread(on_qr, 0, ctypes.addressof(buffer))


class Recorder:
    """The transport's event handler: optionally forwards to a session, then records."""

    def __init__(self, forward: Callable[[TransportEvent], Awaitable[None]] | None = None) -> None:
        self._forward = forward
        self.events: asyncio.Queue[TransportEvent] = asyncio.Queue()

    async def __call__(self, event: TransportEvent) -> None:
        if self._forward is not None:
            await self._forward(event)
        await self.events.put(event)

    async def next(self) -> TransportEvent:
        return await asyncio.wait_for(self.events.get(), WAIT_SECONDS)

    async def nothing_more(self) -> None:
        await asyncio.sleep(0.1)
        assert self.events.empty(), self.events.get_nowait()


# --- fixtures ---


@pytest.fixture(autouse=True)
async def neonize_loop() -> AsyncIterator[None]:
    # neonize's dispatch loop is process-global and set only once (docs/neonize.md §1): bind this test's loop.
    neonize_dispatch.event_global_loop = asyncio.get_running_loop()
    yield
    neonize_dispatch.event_global_loop = None


def gateway_settings(tmp_path: Path, **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "DATA_DIR": str(tmp_path),
        "WA_TRANSPORT": "neonize",
        "COMPANY_ID": "962302",
        "DEFAULT_REGION": "RU",
    }
    values.update(overrides)
    return GatewaySettings(**values)


def neonize_options(tmp_path: Path, **overrides: Any) -> NeonizeOptions:
    """What runtime.build_transport derives from gateway_settings(tmp_path)."""
    options = NeonizeOptions(
        company_id="962302",
        data_dir=tmp_path,
        wa_session_db="",
        whatsapp_phone_number="",
        default_region="RU",
        wa_allow_groups=False,
        use_pairing_code=False,
        qr_expiry_seconds=25.0,
    )
    return dataclasses.replace(options, **overrides)


class Harness:
    def __init__(self, transport: NeonizeTransport, client: Any, recorder: Recorder) -> None:
        self.transport = transport
        self.client = client
        self.recorder = recorder


@pytest.fixture
async def make_harness(tmp_path: Path) -> AsyncIterator[Callable[..., Harness]]:
    transports: list[NeonizeTransport] = []

    def factory(**overrides: Any) -> Harness:
        transport = NeonizeTransport(neonize_options(tmp_path, **overrides))
        recorder = Recorder()
        transport.set_event_handler(recorder)
        client = transport._prepare_client()  # the very path connect() takes, minus the network
        transports.append(transport)
        return Harness(transport, client, recorder)

    yield factory
    for transport in transports:
        await transport.stop()


async def noop_publish(_event: SessionEvent) -> None:
    return None


# --- messages ---


async def test_text_message_becomes_an_incoming_message(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    await dispatch(harness.client, message_ev(Message(conversation="Хочу записаться на стрижку")))

    event = await harness.recorder.next()
    assert event.type is TransportEventType.MESSAGE
    message = event.message
    assert message is not None
    assert message.chat == CUSTOMER
    assert message.sender == CUSTOMER
    assert message.message_id == "3EB0AAAABBBBCCCC0001"
    assert message.timestamp_ms == MESSAGE_TS_MS
    assert message.push_name == "Alice"
    assert message.text == "Хочу записаться на стрижку"
    assert message.kind == "text"
    assert message.from_me is False
    assert message.is_group is False


async def test_sender_device_suffix_is_stripped(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    sender = JID(User=CUSTOMER, Server="s.whatsapp.net", RawAgent=0, Device=12, Integrator=0)
    await dispatch(harness.client, message_ev(sender=sender, chat=build_jid(CUSTOMER)))

    message = (await harness.recorder.next()).message
    assert message is not None
    assert (message.chat, message.sender) == (CUSTOMER, CUSTOMER)


async def test_image_caption_is_the_text_and_bare_image_a_placeholder(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    captioned = Message(imageMessage=ImageMessage(caption="Вот такую хочу", mimetype="image/jpeg"))
    bare = Message(imageMessage=ImageMessage(mimetype="image/jpeg"))
    await dispatch(harness.client, message_ev(captioned, message_id="IMG1"))
    first = (await harness.recorder.next()).message
    await dispatch(harness.client, message_ev(bare, message_id="IMG2"))
    second = (await harness.recorder.next()).message

    assert first is not None
    assert second is not None
    assert (first.text, first.kind) == ("Вот такую хочу", "image")
    assert (second.text, second.kind) == ("[image]", "image")


def test_media_placeholders_name_the_media_type() -> None:
    assert message_content(Message(audioMessage=AudioMessage(PTT=True))) == ("[voice message]", "voice")
    assert message_content(Message(audioMessage=AudioMessage(PTT=False))) == ("[audio]", "audio")
    assert message_content(Message(conversation="hi")) == ("hi", "text")
    assert message_content(Message()) is None


async def test_lid_sender_with_sender_alt_maps_to_the_phone(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    lid = lid_jid("123456789012345")
    await dispatch(harness.client, message_ev(sender=lid, chat=lid, sender_alt=build_jid(CUSTOMER)))

    message = (await harness.recorder.next()).message
    assert message is not None
    assert (message.chat, message.sender) == (CUSTOMER, CUSTOMER)


async def test_lid_sender_without_sender_alt_uses_the_resolver() -> None:
    lid = lid_jid("123456789012345")
    asked: list[str] = []

    async def resolver(jid: Any) -> str | None:
        asked.append(str(jid.User))
        return CUSTOMER

    event = await message_event(message_ev(sender=lid, chat=lid), allow_groups=False, resolve_lid=resolver)
    assert event is not None
    assert event.message is not None
    assert (event.message.chat, event.message.sender) == (CUSTOMER, CUSTOMER)
    assert asked == ["123456789012345"]

    unresolved = await message_event(message_ev(sender=lid, chat=lid), allow_groups=False, resolve_lid=None)
    assert unresolved is None  # never reply to LID digits as if they were a phone number


async def test_unresolvable_lid_from_an_unstarted_client_is_skipped_not_a_crash(
    make_harness: Callable[..., Harness],
) -> None:
    # Go's GetPNFromLID panics for a client that was never started; the transport must not call it.
    harness = make_harness()
    lid = lid_jid("123456789012345")
    await dispatch(harness.client, message_ev(sender=lid, chat=lid, message_id="LID1"))
    await dispatch(harness.client, message_ev(message_id="AFTER"))

    event = await harness.recorder.next()
    assert event.message is not None
    assert event.message.message_id == "AFTER"
    await harness.recorder.nothing_more()


async def test_groups_status_and_protocol_messages_are_skipped(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    group = build_jid("120363012345678901", "g.us")
    status = build_jid("status", "broadcast")
    revoke = Message(protocolMessage=ProtocolMessage(type=ProtocolMessage.REVOKE))
    await dispatch(harness.client, message_ev(chat=group, is_group=True, message_id="GROUP"))
    await dispatch(harness.client, message_ev(chat=status, message_id="STATUS"))
    await dispatch(harness.client, message_ev(revoke, message_id="REVOKE"))
    await dispatch(harness.client, message_ev(message_id="SENTINEL"))

    event = await harness.recorder.next()
    assert event.message is not None
    assert event.message.message_id == "SENTINEL"
    await harness.recorder.nothing_more()


async def test_group_messages_pass_when_allowed(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(wa_allow_groups=True)
    group = build_jid("120363012345678901", "g.us")
    await dispatch(harness.client, message_ev(chat=group, is_group=True, message_id="GROUP"))

    message = (await harness.recorder.next()).message
    assert message is not None
    assert (message.chat, message.sender, message.is_group) == ("120363012345678901", CUSTOMER, True)


async def test_reaction_becomes_an_incoming_reaction(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    reaction = Message(reactionMessage=ReactionMessage(text="👍", senderTimestampMS=MESSAGE_TS_MS + 5))
    reaction.reactionMessage.key.ID = "3EB0REPLY"
    await dispatch(harness.client, message_ev(reaction, message_id="REACT"))

    event = await harness.recorder.next()
    assert event.type is TransportEventType.REACTION
    assert event.reaction is not None
    assert event.reaction.sender == CUSTOMER
    assert event.reaction.message_id == "3EB0REPLY"
    assert event.reaction.emoji == "👍"
    assert event.reaction.timestamp_ms == MESSAGE_TS_MS + 5


async def test_own_message_is_not_journalled(tmp_path: Path, make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    journal = Journal(tmp_path / "journal.sqlite")
    session = WhatsAppSession(
        gateway_settings(tmp_path), harness.transport, journal, on_journalled=lambda: None, publish=noop_publish
    )
    recorder = Recorder(session.handle_event)
    harness.transport.set_event_handler(recorder)
    try:
        own = message_ev(
            Message(conversation="Ждём вас завтра в 10:00"),
            sender=build_jid(SALON),
            chat=build_jid(CUSTOMER),
            from_me=True,
            message_id="OWN",
        )
        await dispatch(harness.client, own)
        event = await recorder.next()
        assert event.message is not None
        assert event.message.from_me is True
        assert journal.backlog().pending == 0

        await dispatch(harness.client, message_ev(message_id="CUSTOMER"))
        await recorder.next()
        assert [entry.message.message_id for entry in journal.pending(10)] == ["CUSTOMER"]
    finally:
        journal.close()


async def test_the_salons_own_message_pauses_the_ai_in_that_chat(
    tmp_path: Path, make_harness: Callable[..., Harness]
) -> None:
    harness = make_harness()
    journal = Journal(tmp_path / "journal.sqlite")
    conversations = ConversationStore(tmp_path / "conversations.sqlite")
    session = WhatsAppSession(
        gateway_settings(tmp_path, HUMAN_TAKEOVER_MINUTES=45),
        harness.transport,
        journal,
        on_journalled=lambda: None,
        publish=noop_publish,
        conversations=conversations,
    )
    recorder = Recorder(session.handle_event)
    harness.transport.set_event_handler(recorder)
    try:
        await dispatch(harness.client, message_ev(Message(conversation="Можно на завтра?"), message_id="CLIENT1"))
        await recorder.next()
        assert conversations.paused_until(CUSTOMER) is None

        own = message_ev(
            Message(conversation="Да, ждём вас в 10:00"),
            sender=build_jid(SALON),
            chat=build_jid(CUSTOMER),
            from_me=True,
            message_id="OWN",
        )
        before = time.time() * 1000
        await dispatch(harness.client, own)
        await recorder.next()

        paused_until = conversations.paused_until(CUSTOMER)
        assert paused_until is not None
        assert before + 44 * 60_000 < paused_until <= time.time() * 1000 + 45 * 60_000
        transcript = conversations.transcript(CUSTOMER)
        assert [(entry.author.value, entry.text) for entry in transcript] == [
            ("client", "Можно на завтра?"),
            ("person", "Да, ждём вас в 10:00"),
        ]
        assert [entry.message.message_id for entry in journal.pending(10)] == ["CLIENT1"]
    finally:
        journal.close()
        conversations.close()


# --- connection events through a session ---


async def session_with_counted_connects(
    tmp_path: Path, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> tuple[WhatsAppSession, Recorder, list[int], Journal]:
    journal = Journal(tmp_path / "journal.sqlite")
    settings = gateway_settings(tmp_path)
    session = WhatsAppSession(settings, harness.transport, journal, on_journalled=lambda: None, publish=noop_publish)
    connects: list[int] = []

    async def counted_connect() -> None:
        connects.append(1)

    monkeypatch.setattr(harness.transport, "connect", counted_connect)
    recorder = Recorder(session.handle_event)
    harness.transport.set_event_handler(recorder)
    return session, recorder, connects, journal


async def test_stream_replaced_stops_the_session_without_reconnecting(
    tmp_path: Path, make_harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = make_harness()
    session, recorder, connects, journal = await session_with_counted_connects(tmp_path, harness, monkeypatch)
    try:
        await dispatch(harness.client, StreamReplacedEv())
        event = await recorder.next()
        assert event.type is TransportEventType.REPLACED
        assert event.reason == "stream replaced (440)"
        await asyncio.sleep(0.2)  # room for any (wrong) reconnect to start

        assert session.state.status == "replaced"
        assert session.state.connected is False
        assert connects == []
        assert session._connect_task is None
        assert harness.transport.active is False  # the session stopped the client
    finally:
        journal.close()


async def test_logged_out_gives_logged_out(
    tmp_path: Path, make_harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = make_harness()
    session, recorder, connects, journal = await session_with_counted_connects(tmp_path, harness, monkeypatch)
    try:
        await dispatch(harness.client, LoggedOutEv(OnConnect=False, Reason=ConnectFailureReason.LOGGED_OUT))
        event = await recorder.next()
        assert event.type is TransportEventType.LOGGED_OUT
        assert event.reason is not None
        assert "LOGGED_OUT" in event.reason
        await asyncio.sleep(0.1)
        assert session.state.status == "logged_out"
        assert connects == []
        assert harness.transport.own_phone is None
    finally:
        journal.close()


async def test_connected_reports_the_paired_phone(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    own_jid = JID(User=SALON, Server="s.whatsapp.net", RawAgent=0, Device=7, Integrator=0)
    await dispatch(harness.client, Device(JID=own_jid, PushName="Salon", Initialized=True))
    await dispatch(harness.client, ConnectedEv(status=True))

    event = await harness.recorder.next()
    assert event.type is TransportEventType.CONNECTED
    assert event.phone_number == SALON
    assert harness.transport.own_phone == SALON
    assert harness.transport.connected is True


def test_connection_event_mapping() -> None:
    ban = connection_event(TemporaryBanEv(Code=TemporaryBanEv.BLOCKED_BY_USERS, Expire=3600), now=1_000)
    assert ban is not None
    assert ban.type is TransportEventType.TEMPORARY_BAN
    assert ban.expires_at == 4_600
    assert ban.reason is not None
    assert "BLOCKED_BY_USERS" in ban.reason

    own_jid = JID(User=SALON, Server="s.whatsapp.net", RawAgent=0, Device=3, Integrator=0)
    paired = connection_event(PairStatusEv(ID=own_jid, Status=PairStatusEv.SUCCESS))
    assert paired == TransportEvent(TransportEventType.PAIRED, phone_number=SALON)
    failed = connection_event(PairStatusEv(Status=PairStatusEv.ERROR, Error="bad code"))
    assert failed is not None
    assert failed.type is TransportEventType.CONNECT_FAILED
    assert connection_event(MessageEv()) is None


# --- QR pairing ---


async def test_qr_is_reported_written_and_removed_once_connected(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    qr = "2@AbCdEf,GhIjKl,MnOpQr,StUvWx"
    await deliver_qr(harness.client, qr)

    event = await harness.recorder.next()
    assert event == TransportEvent(TransportEventType.QR, qr=qr)
    assert harness.transport.latest_qr == qr
    assert harness.transport.qr_text_path.read_text() == qr
    assert harness.transport.qr_png_path.read_bytes().startswith(b"\x89PNG")

    await dispatch(harness.client, ConnectedEv(status=True))
    assert (await harness.recorder.next()).type is TransportEventType.CONNECTED
    assert harness.transport.latest_qr is None
    assert not harness.transport.qr_text_path.exists()
    assert not harness.transport.qr_png_path.exists()


async def test_qr_expires_once_and_stops_the_client(
    make_harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(neonize_qr, "FIRST_QR_EXTRA_SECONDS", 0.0)
    harness = make_harness(qr_expiry_seconds=0.3)
    await deliver_qr(harness.client, "2@first")
    assert (await harness.recorder.next()).type is TransportEventType.QR

    started = time.monotonic()
    expired = await harness.recorder.next()
    assert expired.type is TransportEventType.QR_EXPIRED
    assert time.monotonic() - started < 2
    assert harness.transport.active is False
    assert harness.transport.latest_qr is None
    assert not harness.transport.qr_png_path.exists()
    await asyncio.sleep(0.5)
    assert harness.recorder.events.empty()  # once, no loop


def test_pairing_code_format() -> None:
    assert format_pairing_code("ABCDEFGH") == "ABCD-EFGH"
    assert format_pairing_code("abcd-efgh") == "ABCD-EFGH"


# --- sending ---


class FakeGo:
    """Stands in for neonize's Go bridge (docs/neonize.md §8) so a send can be inspected without a socket."""

    def __init__(self, error: str = "") -> None:
        self.error = error
        self.sent: list[Any] = []

    async def SendMessage(self, _uuid: bytes, to: bytes, _to_len: int, message: bytes, _message_len: int) -> bytes:
        self.sent.append((JID.FromString(to), Message.FromString(message)))
        if self.error:
            return bytes(SendMessageReturnFunction(Error=self.error).SerializePartialToString())
        response = SendResponse(ID="3EB0SENT", Timestamp=1_700_000_000, ServerID=0)
        return bytes(SendMessageReturnFunction(SendResponse=response).SerializePartialToString())


async def test_send_text_sends_a_plain_conversation(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    fake = FakeGo()
    harness.client._NewAClient__client = fake

    sent = await harness.transport.send_text(CUSTOMER, "Напишите @79001234567 завтра")

    assert (sent.message_id, sent.timestamp) == ("3EB0SENT", 1_700_000_000)
    to, message = fake.sent[0]
    assert (to.User, to.Server) == (CUSTOMER, "s.whatsapp.net")
    assert message.conversation == "Напишите @79001234567 завтра"
    assert not message.HasField("extendedTextMessage")


async def test_send_errors(make_harness: Callable[..., Harness], tmp_path: Path) -> None:
    harness = make_harness()
    harness.client._NewAClient__client = FakeGo(error="websocket not connected")
    with pytest.raises(WhatsAppNotConnected):
        await harness.transport.send_text(CUSTOMER, "hi")

    idle = NeonizeTransport(neonize_options(tmp_path / "idle"))
    with pytest.raises(WhatsAppNotConnected):
        await idle.send_text(CUSTOMER, "hi")


async def test_stop_is_quick_and_idempotent(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    started = time.monotonic()
    await harness.transport.stop()
    await harness.transport.stop()
    assert time.monotonic() - started < 5
    assert harness.transport.active is False


# --- the session store ---


async def test_a_second_transport_cannot_take_the_session_store(tmp_path: Path) -> None:
    first = NeonizeTransport(neonize_options(tmp_path))
    second = NeonizeTransport(neonize_options(tmp_path))
    first._acquire_lock()  # what connect() does first
    try:
        with pytest.raises(ConfigurationError, match="another process owns the session store"):
            await second.connect()
        assert second.active is False
    finally:
        await first.stop()
    second._acquire_lock()  # released by stop()
    second.close()


def make_store(path: Path, jid: str) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE whatsmeow_device (jid TEXT PRIMARY KEY)")
    db.execute("INSERT INTO whatsmeow_device (jid) VALUES (?)", (jid,))
    db.commit()
    return db  # left open so the -wal and -shm files exist too


def test_phone_mismatch_wipes_the_store(tmp_path: Path) -> None:
    transport = NeonizeTransport(neonize_options(tmp_path, whatsapp_phone_number="+7 999 000-22-22"))
    store = Path(transport.session_db)
    assert store == tmp_path / "whatsapp-962302.sqlite"
    db = make_store(store, "79990001111:5@s.whatsapp.net")
    try:
        assert Path(f"{store}-wal").exists()
        transport._prepare_store()
    finally:
        db.close()
    for suffix in ("", "-wal", "-shm"):
        assert not Path(f"{store}{suffix}").exists()
    assert transport.own_phone is None


def test_matching_store_is_kept_and_names_our_phone(tmp_path: Path) -> None:
    transport = NeonizeTransport(neonize_options(tmp_path, whatsapp_phone_number=SALON))
    store = Path(transport.session_db)
    make_store(store, f"{SALON}:5@s.whatsapp.net").close()
    transport._prepare_store()
    assert store.exists()
    assert transport.own_phone == SALON


def test_postgres_dsn_is_passed_through(tmp_path: Path) -> None:
    dsn = "postgres://wa:secret@127.0.0.1:5432/wa?sslmode=disable"
    transport = NeonizeTransport(neonize_options(tmp_path, wa_session_db=dsn))
    assert transport.session_db == dsn


# --- connect() and the end of the connection task ---


async def test_connect_failing_fast_raises_transient_error_not_an_event(tmp_path: Path) -> None:
    # A session store that cannot be opened fails inside Go before any socket is dialled,
    # exactly like the offline case (docs/neonize.md §9): the whole real connect() path, no network.
    unopenable = tmp_path / "store-is-a-directory"
    unopenable.mkdir()
    transport = NeonizeTransport(neonize_options(tmp_path, wa_session_db=str(unopenable)))
    recorder = Recorder()
    transport.set_event_handler(recorder)
    try:
        started = time.monotonic()
        with pytest.raises(TransientError, match="WhatsApp connect failed"):
            await transport.connect()
        assert time.monotonic() - started < 5
        assert transport.active is False
        await recorder.nothing_more()  # the session counts the raise; no CONNECT_FAILED on top
    finally:
        await transport.stop()


async def failed_task(message: str) -> asyncio.Task[None]:
    async def fail() -> None:
        raise NeonizeError(message)

    task = asyncio.get_running_loop().create_task(fail())
    await asyncio.wait({task})
    return task


async def test_connection_task_ending_later_reports_connect_failed(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    task = await failed_task("event dispatch died")
    harness.transport._on_connect_task_done(harness.client, harness.transport._generation, task)

    event = await harness.recorder.next()
    assert event.type is TransportEventType.CONNECT_FAILED
    assert event.reason == "event dispatch died"


async def test_connection_task_ending_after_a_final_event_stays_quiet(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    task = await failed_task("stream ended")
    # Go ended the session and its task; the LoggedOut handler runs as its own task meanwhile.
    harness.transport._on_connect_task_done(harness.client, harness.transport._generation, task)
    await dispatch(harness.client, LoggedOutEv(OnConnect=False, Reason=ConnectFailureReason.MAIN_DEVICE_GONE))

    assert (await harness.recorder.next()).type is TransportEventType.LOGGED_OUT
    await asyncio.sleep(transport_module.TASK_END_SETTLE_SECONDS)
    await harness.recorder.nothing_more()
