"""The real WhatsApp transport: neonize 0.5.2 (Python over whatsmeow): the client's lifecycle and sending.

The transport reports what the library tells it and never loops: the session decides what
to do with every event (see policy.py). Read docs/neonize.md before changing this file; the
comments below name the traps by section. The loop workarounds are in neonize_runtime.py,
QR files and expiry in neonize_qr.py, pairing by code in neonize_pairing.py.

Own messages: inbound messages the salon sent from its own phone are passed on with
``from_me=True``; :class:`WhatsAppSession` drops them.
"""

from __future__ import annotations

# Must run before anything imports neonize (see the module).
import services.wa_gateway.transport.neonize_import  # noqa: F401

# isort: split

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from neonize.aioze.client import NewAClient
from neonize.aioze.events import (
    KeepAliveRestoredEv,
    KeepAliveTimeoutEv,
    MessageEv,
    StreamErrorEv,
)
from neonize.exc import NeonizeError
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message
from neonize.utils.enum import ChatPresence, ChatPresenceMedia, Presence
from neonize.utils.jid import build_jid

from services.wa_gateway.transport.base import (
    EventHandler,
    SentMessage,
    TransportEvent,
    TransportEventType,
)
from services.wa_gateway.transport.neonize_errors import translated_errors
from services.wa_gateway.transport.neonize_events import (
    CONNECTION_EVENT_TYPES,
    GROUP_SERVER,
    connection_event,
    jid_user,
    message_event,
)
from services.wa_gateway.transport.neonize_options import NeonizeOptions
from services.wa_gateway.transport.neonize_pairing import (
    announce_pairing_code,
    pairing_phone_digits,
    request_pairing_code,
    wait_for_first_qr,
)
from services.wa_gateway.transport.neonize_qr import QrFiles, QrWatchdog
from services.wa_gateway.transport.neonize_runtime import bind_neonize_loop, install_daemon_executor
from services.wa_gateway.transport.neonize_store import SessionStore, read_stored_phone
from shared.blocking import run_blocking
from shared.errors import InvalidInput, InvalidPhone, TransientError, WhatsAppNotConnected
from shared.logging import get_logger

log = get_logger(__name__)

CONNECT_GRACE_SECONDS = 1.5
"""Offline, the connect task fails within ~0.05 s (docs/neonize.md §9); a task alive after this is connecting."""
STOP_TIMEOUT_SECONDS = 3.0
STOP_LOCK_WAIT_SECONDS = 2.0
TASK_END_SETTLE_SECONDS = 0.2
_FINAL_EVENTS = frozenset(
    {
        TransportEventType.REPLACED,
        TransportEventType.LOGGED_OUT,
        TransportEventType.TEMPORARY_BAN,
        TransportEventType.OUTDATED,
        TransportEventType.CONNECT_FAILED,
    }
)
"""Events after which whatsmeow does not reconnect by itself (docs/neonize.md §3)."""
MAX_PHONE_DIGITS = 15
"""E.164's limit; longer ids (and ids with a hyphen) are groups."""


class NeonizeTransport:
    name = "neonize"
    reconnects_after_disconnect = True

    def __init__(self, options: NeonizeOptions) -> None:
        self._options = options
        self._handler: EventHandler | None = None
        self._client: Any = None
        self._generation = 0
        """Bumped whenever the current client is replaced or stopped, so callbacks of an old
        client's connect task know they are stale and stay quiet."""
        self._grace_generation: int | None = None
        """The client connect() is still judging; its early failure is raised, not emitted."""
        self._retired: set[Any] = set()
        """Stopped clients whose connect task is still running: kept alive because Go still
        holds their ctypes callbacks."""
        self._lifecycle = asyncio.Lock()
        self._own_phone: str | None = None
        self._connected = False
        self._paired = False
        self._latest_qr: str | None = None
        self._ended_by_event = False
        """A connection event already said why this client is finished; its task's end is no news."""
        self._first_qr = asyncio.Event()
        self._watchdog = QrWatchdog(options.qr_expiry_seconds)
        self._background: set[asyncio.Task[Any]] = set()

        self._store = SessionStore(options)
        self._qr_files = QrFiles(options.data_dir, options.company_id)

    # --- properties ---

    @property
    def own_phone(self) -> str | None:
        return self._own_phone

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def active(self) -> bool:
        """A client exists: connecting, showing QR codes or connected (False after stop or QR expiry)."""
        return self._client is not None

    @property
    def latest_qr(self) -> str | None:
        """The QR string to show while pairing; None once paired, expired or stopped."""
        return self._latest_qr

    @property
    def session_db(self) -> str:
        return self._store.name

    @property
    def qr_text_path(self) -> Path:
        return self._qr_files.text_path

    @property
    def qr_png_path(self) -> Path:
        return self._qr_files.png_path

    def set_event_handler(self, handler: EventHandler) -> None:
        self._handler = handler

    # --- lifecycle ---

    async def connect(self) -> None:
        async with self._lifecycle:
            self._acquire_lock()
            self._watchdog.cancel()
            loop = asyncio.get_running_loop()
            install_daemon_executor(loop)
            bind_neonize_loop(loop)
            await self._stop_client()
            await run_blocking(self._prepare_store)
            client = self._prepare_client()
            generation = self._generation
            log.info("Connecting to WhatsApp", company_id=self._options.company_id, paired=self._own_phone is not None)
            # A failure inside the grace period is reported by raising, not also as an event.
            self._grace_generation = generation
            try:
                task: asyncio.Task[None] = await client.connect()
                task.add_done_callback(lambda done: self._on_connect_task_done(client, generation, done))
                await asyncio.wait({task}, timeout=CONNECT_GRACE_SECONDS)
            except BaseException:
                await self._stop_client()
                raise
            finally:
                self._grace_generation = None
            if task.done():
                reason = _task_failure(task)
                await self._stop_client()
                raise TransientError(f"WhatsApp connect failed: {reason}")

    async def stop(self) -> None:
        """Idempotent; never raises; returns within about 5 s even for an unpaired client."""
        self._watchdog.cancel()
        locked = False
        try:
            try:
                async with asyncio.timeout(STOP_LOCK_WAIT_SECONDS):
                    await self._lifecycle.acquire()
                locked = True
            except TimeoutError:
                # A connect() is still in its grace period; stopping its client anyway is safe.
                log.warning("Stopping WhatsApp while a connect is in progress")
            await self._stop_client()
        except Exception as error:
            log.warning("Stopping the WhatsApp client failed", error=f"{type(error).__name__}: {error}")
        finally:
            if locked:
                self._lifecycle.release()
            self._release_lock()

    def close(self) -> None:
        """Synchronous last resort for the app's shutdown: stop Go's client, release the lock."""
        self._watchdog.cancel()
        client, self._client = self._client, None
        self._generation += 1
        if client is not None:
            from neonize._binder import gocode  # noqa: PLC0415  (the same sync call neonize uses on cancel)

            try:
                gocode.Stop(client.uuid)
            except Exception as error:
                log.warning("Stopping the WhatsApp client failed", error=str(error))
        self._release_lock()

    def _prepare_client(self) -> Any:
        """Build a fresh client with every handler registered: the one path connect() uses."""
        client = self._new_client()
        self._register_handlers(client)
        self._generation += 1
        self._client = client
        self._connected = False
        self._paired = self._own_phone is not None
        self._watchdog.reset()
        self._ended_by_event = False
        self._first_qr = asyncio.Event()
        return client

    def _new_client(self) -> Any:
        # A unique uuid per client: neonize's GC finalizer calls Go Stop(uuid), which would
        # otherwise stop a newer client that reused the uuid of a collected one (docs/neonize.md §1).
        uuid = f"wa-{self._options.company_id}-{secrets.token_hex(4)}"
        return NewAClient(self._store.name, uuid=uuid)

    def _register_handlers(self, client: Any) -> None:
        """One handler per event type, all before connect() (docs/neonize.md §4: later ones never fire)."""
        client.event(MessageEv)(self._guarded("message", self._on_message))
        for event_type in CONNECTION_EVENT_TYPES:
            client.event(event_type)(self._guarded(event_type.__name__, self._on_connection_event))
        for event_type in (KeepAliveTimeoutEv, KeepAliveRestoredEv, StreamErrorEv):
            client.event(event_type)(self._guarded(event_type.__name__, self._on_diagnostic_event))
        client.event.qr(self._guarded("qr", self._on_qr))

    def _guarded(
        self, what: str, handler: Callable[[Any, Any], Awaitable[None]]
    ) -> Callable[[Any, Any], Coroutine[Any, Any, None]]:
        """neonize swallows handler exceptions (docs/neonize.md §4), so log them here; stale clients are ignored."""

        async def run(client: Any, payload: Any) -> None:
            if client is not self._client:
                return
            try:
                await handler(client, payload)
            except Exception:
                log.exception("WhatsApp event handler failed", wa_event=what, company_id=self._options.company_id)

        return run

    async def _stop_client(self) -> None:
        client, self._client = self._client, None
        self._generation += 1
        self._connected = False
        self._latest_qr = None
        if client is None:
            return
        task = client.connect_task
        if task is not None and not task.done():
            self._retired.add(client)
            task.add_done_callback(lambda _done: self._retired.discard(client))
        try:
            # Never await the connect task itself: for an unpaired client it never ends (docs/neonize.md §9).
            await asyncio.wait_for(client.stop(), timeout=STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("WhatsApp client did not stop in time; abandoning it", timeout_seconds=STOP_TIMEOUT_SECONDS)
        except Exception as error:
            log.warning("Stopping the WhatsApp client failed", error=f"{type(error).__name__}: {error}")

    def _on_connect_task_done(self, client: Any, generation: int, task: asyncio.Task[None]) -> None:
        reason = _task_failure(task)  # also marks the exception as retrieved
        if generation != self._generation or client is not self._client:
            return  # we stopped or replaced this client ourselves
        if generation == self._grace_generation or task.cancelled():
            return  # connect() raises instead; a cancelled task means the loop is shutting down
        self._spawn(self._report_connect_task_end(client, generation, reason))

    async def _report_connect_task_end(self, client: Any, generation: int, reason: str) -> None:
        # Handlers are separate tasks (docs/neonize.md §4): a LoggedOut or StreamReplaced that ended the
        # session may still be on its way, and it, not a reconnect, must decide what happens.
        await asyncio.sleep(TASK_END_SETTLE_SECONDS)
        if generation != self._generation or client is not self._client or self._ended_by_event:
            return
        # Whatever ended the task, this client delivers nothing more (docs/neonize.md §3, risk).
        self._connected = False
        log.warning("WhatsApp connection task ended", error=reason, company_id=self._options.company_id)
        await self._emit(TransportEvent(TransportEventType.CONNECT_FAILED, reason=reason))

    # --- the session store ---

    def _acquire_lock(self) -> None:
        self._store.lock()

    def _release_lock(self) -> None:
        self._store.unlock()

    def _prepare_store(self) -> None:
        """Blocking (sqlite); connect() runs it in a thread."""
        self._own_phone = self._store.prepare()

    # --- events ---

    async def _emit(self, event: TransportEvent) -> None:
        if self._handler is not None:
            await self._handler(event)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _on_message(self, client: Any, ev: Any) -> None:
        async def resolve_lid(jid: Any) -> str | None:
            # GetPNFromLID dereferences Go's client without a nil check: for a client that was
            # never started or was already stopped it panics and kills the process (tested).
            if client is not self._client or client.connect_task is None:
                return None
            phone_jid = await client.get_pn_from_lid(jid)
            return jid_user(phone_jid) or None

        event = await message_event(ev, allow_groups=self._options.wa_allow_groups, resolve_lid=resolve_lid)
        if event is not None:
            await self._emit(event)

    async def _on_connection_event(self, client: Any, ev: Any) -> None:
        event = connection_event(ev)
        if event is None:
            return
        kind = event.type
        if kind is TransportEventType.CONNECTED:
            await self._on_connected(client)
            event = TransportEvent(kind, phone_number=self._own_phone)
        elif kind is TransportEventType.PAIRED:
            self._paired = True
            self._watchdog.cancel()
            self._own_phone = event.phone_number or self._own_phone
            log.info("WhatsApp device paired", phone_number=self._own_phone, company_id=self._options.company_id)
        elif kind is TransportEventType.LOGGED_OUT:
            # whatsmeow has already deleted the store (docs/neonize.md §3); a new pairing is needed.
            self._connected = False
            self._paired = False
            self._own_phone = None
        elif kind in (
            TransportEventType.DISCONNECTED,
            TransportEventType.REPLACED,
            TransportEventType.TEMPORARY_BAN,
            TransportEventType.OUTDATED,
            TransportEventType.CONNECT_FAILED,
        ):
            self._connected = False
        if kind in _FINAL_EVENTS:
            self._ended_by_event = True
        await self._emit(event)

    async def _on_connected(self, client: Any) -> None:
        self._connected = True
        self._paired = True
        self._watchdog.cancel()
        self._latest_qr = None
        await run_blocking(self._qr_files.delete)
        me = client.me
        if me is not None and jid_user(me.JID):
            self._own_phone = jid_user(me.JID)
        elif self._store.path is not None:
            # get_me() is avoided on purpose: it aborts the process when the store has no device (docs/neonize.md §7).
            self._own_phone = await run_blocking(read_stored_phone, self._store.path) or self._own_phone
        try:
            # Without one presence after connecting, contacts see "-" instead of the salon's name.
            await client.send_presence(Presence.AVAILABLE)
        except NeonizeError as error:
            log.warning("Could not announce presence", error=str(error))

    async def _on_diagnostic_event(self, _client: Any, ev: Any) -> None:
        if isinstance(ev, KeepAliveTimeoutEv):
            log.warning("WhatsApp keepalive failed", error_count=int(ev.ErrorCount))
        elif isinstance(ev, KeepAliveRestoredEv):
            log.info("WhatsApp keepalive restored")
        else:
            log.warning("WhatsApp stream error", code=str(ev.Code))

    # --- pairing ---

    async def _on_qr(self, client: Any, data: bytes) -> None:
        qr = data.decode() if isinstance(data, bytes) else str(data)
        self._latest_qr = qr
        self._watchdog.code_shown()
        first = not self._first_qr.is_set()
        self._first_qr.set()
        art = await run_blocking(self._qr_files.write, qr)
        log.info(
            "WhatsApp QR code: open WhatsApp > Linked devices > Link a device and scan it\n" + art,
            company_id=self._options.company_id,
            qr_file=str(self.qr_png_path),
        )
        await self._emit(TransportEvent(TransportEventType.QR, qr=qr))
        self._watchdog.watch(
            pending=lambda: not self._paired and self._client is client,
            expire=lambda: self._expire_qr(client),
        )
        if first and self._options.use_pairing_code and self._options.whatsapp_phone_number.strip():
            self._spawn(
                announce_pairing_code(self.pair_phone, self._options.whatsapp_phone_number, self._options.company_id)
            )

    async def _expire_qr(self, client: Any) -> None:
        log.warning(
            "WhatsApp QR code expired without a scan; the client is stopped until an operator reconnects",
            qr_codes_shown=self._watchdog.codes_shown,
            company_id=self._options.company_id,
        )
        async with self._lifecycle:
            if self._client is not client:
                return  # reconnected or stopped meanwhile
            await self._stop_client()
        await run_blocking(self._qr_files.delete)
        await self._emit(TransportEvent(TransportEventType.QR_EXPIRED, reason="QR code expired without a scan"))

    async def pair_phone(self, phone: str) -> str:
        """Ask WhatsApp for an 8-character pairing code (``ABCD-EFGH``) for ``phone``.

        Only valid after connect() and the first QR code (docs/neonize.md §2, issue #192): waits
        for it up to FIRST_QR_TIMEOUT_SECONDS, then raises TransientError.
        """
        digits = pairing_phone_digits(phone, self._options.default_region)
        client = self._client
        if client is None:
            raise WhatsAppNotConnected("WhatsApp is not connecting; connect first, then request a pairing code")
        if self._paired:
            raise InvalidInput("this gateway is already paired; log out before pairing another phone")
        await wait_for_first_qr(self._first_qr)
        if client is not self._client:
            raise TransientError("the WhatsApp client was restarted while waiting; try again")
        code = await request_pairing_code(client, digits)
        self._watchdog.pairing_code_issued()
        log.info("WhatsApp pairing code issued", phone_number=digits, company_id=self._options.company_id)
        return code

    # --- sending ---

    def _require_client(self) -> Any:
        if self._client is None:
            raise WhatsAppNotConnected("WhatsApp is not connected")
        return self._client

    def _jid_for(self, phone: str) -> Any:
        text = phone.strip()
        if "@" in text:
            user, server = text.rsplit("@", 1)
            return build_jid(user.split(":", 1)[0], server)
        digits = "".join(ch for ch in text if ch.isdigit())
        if "-" in text or len(digits) > MAX_PHONE_DIGITS:
            return build_jid(text, GROUP_SERVER)
        if not digits:
            raise InvalidPhone(f"phone {phone!r} has no digits")
        return build_jid(digits)

    async def send_text(self, phone: str, text: str) -> SentMessage:
        client = self._require_client()
        jid = self._jid_for(phone)
        with translated_errors():
            # A str would be sent as extendedTextMessage with "@digits" turned into mentions (docs/neonize.md §6).
            response = await client.send_message(jid, Message(conversation=text))
        return SentMessage(message_id=str(response.ID), timestamp=int(response.Timestamp))

    async def send_reaction(self, phone: str, message_id: str, emoji: str) -> SentMessage:
        client = self._require_client()
        jid = self._jid_for(phone)
        with translated_errors():
            # The reacted-to message is the customer's, so they are both the chat and its sender.
            reaction = await client.build_reaction(jid, jid, message_id, emoji)
            response = await client.send_message(jid, reaction)
        return SentMessage(message_id=str(response.ID), timestamp=int(response.Timestamp))

    async def send_typing(self, phone: str, composing: bool) -> None:
        client = self._require_client()
        state = ChatPresence.CHAT_PRESENCE_COMPOSING if composing else ChatPresence.CHAT_PRESENCE_PAUSED
        with translated_errors():
            await client.send_chat_presence(self._jid_for(phone), state, ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT)


def _task_failure(task: asyncio.Task[None]) -> str:
    if task.cancelled():
        return "connection task cancelled"
    error = task.exception()
    if error is None:
        return "connection task ended"
    return f"{type(error).__name__}: {error}" if not str(error) else str(error)
