"""The real WhatsApp transport: neonize 0.5.2 (Python over whatsmeow).

The transport reports what the library tells it and never loops: the session decides what
to do with every event (see policy.py). Read /work/shared/notes/neonize.md before changing
this file; the comments below name the traps by section.

Own messages: inbound messages the salon sent from its own phone are passed on with
``from_me=True``; :class:`WhatsAppSession` drops them.
"""

from __future__ import annotations

# Must run before anything imports neonize (see the module).
import services.wa_gateway.transport.neonize_import  # noqa: F401

# isort: split

import asyncio
import concurrent.futures
import contextlib
import io
import secrets
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import neonize.aioze.events as neonize_dispatch
import segno
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

from services.wa_gateway.settings import GatewaySettings
from services.wa_gateway.transport.base import (
    EventHandler,
    SentMessage,
    TransportEvent,
    TransportEventType,
)
from services.wa_gateway.transport.neonize_events import (
    CONNECTION_EVENT_TYPES,
    GROUP_SERVER,
    connection_event,
    jid_user,
    message_event,
)
from services.wa_gateway.transport.neonize_store import SessionStore, read_stored_phone
from shared.errors import ConfigurationError, InvalidInput, InvalidPhone, TransientError, WhatsAppNotConnected
from shared.logging import get_logger
from shared.phones import normalize_phone

log = get_logger(__name__)

T = TypeVar("T")

CONNECT_GRACE_SECONDS = 1.5
"""Offline, the connect task fails within ~0.05 s (notes §8); a task alive after this is connecting."""
STOP_TIMEOUT_SECONDS = 3.0
STOP_LOCK_WAIT_SECONDS = 2.0
FIRST_QR_TIMEOUT_SECONDS = 20.0
FIRST_QR_EXTRA_SECONDS = 40.0
"""whatsmeow's first QR code lives 60 s and the following ones 20 s (notes §2), so the
watchdog waits this much longer after the first one than WA_QR_EXPIRY_SECONDS."""
PAIRING_CODE_SECONDS = 120.0
"""How long the watchdog keeps an unpaired client after issuing a pairing code (a guess: the
code's real lifetime is not documented by whatsmeow)."""
PAIRING_CODE_LENGTH = 8
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
"""Events after which whatsmeow does not reconnect by itself (notes §3)."""
MAX_PHONE_DIGITS = 15
"""E.164's limit; longer ids (and ids with a hyphen) are groups."""

_TRANSIENT_SEND_ERRORS = (
    "timed out",
    "timeout",
    "websocket disconnected",
    "context canceled",
    "context deadline exceeded",
)
_NOT_CONNECTED_ERRORS = (
    "websocket not connected",
    "client is nil",
    "doesn't contain a device jid",
    "not logged in",
)


class DaemonThreadExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs every job in its own daemon thread and never waits for them on shutdown.

    neonize runs the whole session as one blocking Go call in the loop's default executor,
    and for a client that was never paired that call never returns, even after ``stop()``
    (notes §1, §8). With the standard executor, uvicorn and ``asyncio.run`` would then hang
    at exit joining that thread; daemon threads let the process exit (notes §8 option (a)).
    """

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="neonize")

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)

        threading.Thread(target=run, name="neonize-worker", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        return None


_LOOPS_WITH_DAEMON_EXECUTOR: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def _install_daemon_executor(loop: asyncio.AbstractEventLoop) -> None:
    if loop not in _LOOPS_WITH_DAEMON_EXECUTOR:
        loop.set_default_executor(DaemonThreadExecutor())
        _LOOPS_WITH_DAEMON_EXECUTOR.add(loop)


def _bind_neonize_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Point neonize's process-global dispatch loop at ``loop``.

    neonize sets ``event_global_loop`` only while it is None (notes §1), so after a test's or
    an app's previous loop closed, every event would be sent to a dead loop.
    """
    bound_loop = neonize_dispatch.event_global_loop
    if bound_loop is loop:
        return
    if bound_loop is not None and bound_loop.is_running() and not bound_loop.is_closed():
        raise ConfigurationError("neonize already delivers its events to another running event loop in this process")
    neonize_dispatch.event_global_loop = loop


def format_pairing_code(code: str) -> str:
    """whatsmeow already returns ``ABCD-EFGH``; normalise anyway so the shape never depends on it."""
    compact = code.replace("-", "").strip().upper()
    if len(compact) != PAIRING_CODE_LENGTH:
        return code
    return f"{compact[:4]}-{compact[4:]}"


class NeonizeTransport:
    name = "neonize"
    reconnects_after_disconnect = True

    def __init__(self, settings: GatewaySettings) -> None:
        self._settings = settings
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
        self._qr_count = 0
        self._pairing_code_issued = False
        self._ended_by_event = False
        """A connection event already said why this client is finished; its task's end is no news."""
        self._last_qr_at = 0.0
        self._first_qr = asyncio.Event()
        self._watchdog: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()

        self._store = SessionStore(settings)

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
        return self._settings.data_dir / f"qr-{self._settings.company_id}.txt"

    @property
    def qr_png_path(self) -> Path:
        return self._settings.data_dir / f"qr-{self._settings.company_id}.png"

    def set_event_handler(self, handler: EventHandler) -> None:
        self._handler = handler

    # --- lifecycle ---

    async def connect(self) -> None:
        async with self._lifecycle:
            self._acquire_lock()
            self._cancel_watchdog()
            loop = asyncio.get_running_loop()
            _install_daemon_executor(loop)
            _bind_neonize_loop(loop)
            await self._stop_client()
            await asyncio.to_thread(self._prepare_store)
            client = self._prepare_client()
            generation = self._generation
            log.info("Connecting to WhatsApp", company_id=self._settings.company_id, paired=self._own_phone is not None)
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
        self._cancel_watchdog()
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
        self._cancel_watchdog()
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
        self._qr_count = 0
        self._pairing_code_issued = False
        self._ended_by_event = False
        self._first_qr = asyncio.Event()
        return client

    def _new_client(self) -> Any:
        # A unique uuid per client: neonize's GC finalizer calls Go Stop(uuid), which would
        # otherwise stop a newer client that reused the uuid of a collected one (notes §1).
        uuid = f"wa-{self._settings.company_id}-{secrets.token_hex(4)}"
        return NewAClient(self._store.name, uuid=uuid)

    def _register_handlers(self, client: Any) -> None:
        """One handler per event type, all before connect() (notes §4: later ones never fire)."""
        client.event(MessageEv)(self._guarded("message", self._on_message))
        for event_type in CONNECTION_EVENT_TYPES:
            client.event(event_type)(self._guarded(event_type.__name__, self._on_connection_event))
        for event_type in (KeepAliveTimeoutEv, KeepAliveRestoredEv, StreamErrorEv):
            client.event(event_type)(self._guarded(event_type.__name__, self._on_diagnostic_event))
        client.event.qr(self._guarded("qr", self._on_qr))

    def _guarded(
        self, what: str, handler: Callable[[Any, Any], Awaitable[None]]
    ) -> Callable[[Any, Any], Coroutine[Any, Any, None]]:
        """neonize swallows handler exceptions (notes §4), so log them here; stale clients are ignored."""

        async def run(client: Any, payload: Any) -> None:
            if client is not self._client:
                return
            try:
                await handler(client, payload)
            except Exception:
                log.exception("WhatsApp event handler failed", wa_event=what, company_id=self._settings.company_id)

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
            # Never await the connect task itself: for an unpaired client it never ends (notes §8).
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
        # Handlers are separate tasks (notes §4): a LoggedOut or StreamReplaced that ended the
        # session may still be on its way, and it, not a reconnect, must decide what happens.
        await asyncio.sleep(TASK_END_SETTLE_SECONDS)
        if generation != self._generation or client is not self._client or self._ended_by_event:
            return
        # Whatever ended the task, this client delivers nothing more (notes §3, risk).
        self._connected = False
        log.warning("WhatsApp connection task ended", error=reason, company_id=self._settings.company_id)
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

        event = await message_event(ev, allow_groups=self._settings.wa_allow_groups, resolve_lid=resolve_lid)
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
            self._cancel_watchdog()
            self._own_phone = event.phone_number or self._own_phone
            log.info("WhatsApp device paired", phone_number=self._own_phone, company_id=self._settings.company_id)
        elif kind is TransportEventType.LOGGED_OUT:
            # whatsmeow has already deleted the store (notes §3); a new pairing is needed.
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
        self._cancel_watchdog()
        self._latest_qr = None
        await asyncio.to_thread(self._delete_qr_files)
        me = client.me
        if me is not None and jid_user(me.JID):
            self._own_phone = jid_user(me.JID)
        elif self._store.path is not None:
            # get_me() is avoided on purpose: it aborts the process when the store has no device (notes §6).
            self._own_phone = await asyncio.to_thread(read_stored_phone, self._store.path) or self._own_phone
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

    # --- QR pairing ---

    async def _on_qr(self, client: Any, data: bytes) -> None:
        qr = data.decode() if isinstance(data, bytes) else str(data)
        self._latest_qr = qr
        self._last_qr_at = time.monotonic()
        self._qr_count += 1
        first = not self._first_qr.is_set()
        self._first_qr.set()
        art = await asyncio.to_thread(self._write_qr_files, qr)
        log.info(
            "WhatsApp QR code: open WhatsApp > Linked devices > Link a device and scan it\n" + art,
            company_id=self._settings.company_id,
            qr_file=str(self.qr_png_path),
        )
        await self._emit(TransportEvent(TransportEventType.QR, qr=qr))
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = asyncio.get_running_loop().create_task(self._qr_watchdog(client), name="wa-qr-watchdog")
        if first and self._settings.use_pairing_code and self._settings.whatsapp_phone_number.strip():
            self._spawn(self._request_pairing_code_automatically())

    def _write_qr_files(self, qr: str) -> str:
        code = segno.make_qr(qr)
        buffer = io.StringIO()
        code.terminal(out=buffer, compact=True)
        self._settings.data_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.qr_text_path, qr.encode())
        png = io.BytesIO()
        code.save(png, kind="png", scale=10)
        _atomic_write(self.qr_png_path, png.getvalue())
        return buffer.getvalue()

    def _delete_qr_files(self) -> None:
        for path in (self.qr_text_path, self.qr_png_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _qr_allowance(self) -> float:
        if self._pairing_code_issued:
            return max(self._settings.qr_expiry_seconds, PAIRING_CODE_SECONDS)
        extra = FIRST_QR_EXTRA_SECONDS if self._qr_count <= 1 else 0.0
        return self._settings.qr_expiry_seconds + extra

    async def _qr_watchdog(self, client: Any) -> None:
        """neonize never tells Python a QR expired (notes §2): no new code for a while means it did."""
        while True:
            if self._paired or self._client is not client:
                return
            remaining = self._last_qr_at + self._qr_allowance() - time.monotonic()
            if remaining > 0:
                await asyncio.sleep(remaining)
                continue
            break
        # Detach first: the stop below must not cancel this very task.
        self._watchdog = None
        log.warning(
            "WhatsApp QR code expired without a scan; the client is stopped until an operator reconnects",
            qr_codes_shown=self._qr_count,
            company_id=self._settings.company_id,
        )
        async with self._lifecycle:
            if self._client is not client:
                return  # reconnected or stopped meanwhile
            await self._stop_client()
        await asyncio.to_thread(self._delete_qr_files)
        await self._emit(TransportEvent(TransportEventType.QR_EXPIRED, reason="QR code expired without a scan"))

    def _cancel_watchdog(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None and not watchdog.done():
            watchdog.cancel()

    async def pair_phone(self, phone: str) -> str:
        """Ask WhatsApp for an 8-character pairing code (``ABCD-EFGH``) for ``phone``.

        Only valid after connect() and the first QR code (notes §2, issue #192): waits up to
        FIRST_QR_TIMEOUT_SECONDS for it, then raises TransientError.
        """
        try:
            digits = normalize_phone(phone, self._settings.default_region)
        except InvalidPhone as error:
            raise InvalidInput(f"phone: {error}") from None
        client = self._client
        if client is None:
            raise WhatsAppNotConnected("WhatsApp is not connecting; connect first, then request a pairing code")
        if self._paired:
            raise InvalidInput("this gateway is already paired; log out before pairing another phone")
        try:
            await asyncio.wait_for(self._first_qr.wait(), timeout=FIRST_QR_TIMEOUT_SECONDS)
        except TimeoutError:
            raise TransientError("WhatsApp has not offered pairing yet (no QR code); try again shortly") from None
        if client is not self._client:
            raise TransientError("the WhatsApp client was restarted while waiting; try again")
        with _translated_errors():
            code = await client.PairPhone(digits, True)
        formatted = format_pairing_code(str(code))
        # The code is typed on the phone, which takes longer than a QR rotation: keep the client up.
        self._pairing_code_issued = True
        self._last_qr_at = time.monotonic()
        log.info("WhatsApp pairing code issued", phone_number=digits, company_id=self._settings.company_id)
        return formatted

    async def _request_pairing_code_automatically(self) -> None:
        try:
            code = await self.pair_phone(self._settings.whatsapp_phone_number)
        except Exception as error:
            log.error("Could not get a WhatsApp pairing code", error=f"{type(error).__name__}: {error}")
            return
        log.warning(
            f"WhatsApp pairing code: {code} (WhatsApp > Linked devices > Link with phone number)",
            pairing_code=code,
            company_id=self._settings.company_id,
        )

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
        with _translated_errors():
            # A str would be sent as extendedTextMessage with "@digits" turned into mentions (notes §5).
            response = await client.send_message(jid, Message(conversation=text))
        return SentMessage(message_id=str(response.ID), timestamp=int(response.Timestamp))

    async def send_reaction(self, phone: str, message_id: str, emoji: str) -> SentMessage:
        client = self._require_client()
        jid = self._jid_for(phone)
        with _translated_errors():
            # The reacted-to message is the customer's, so they are both the chat and its sender.
            reaction = await client.build_reaction(jid, jid, message_id, emoji)
            response = await client.send_message(jid, reaction)
        return SentMessage(message_id=str(response.ID), timestamp=int(response.Timestamp))

    async def send_typing(self, phone: str, composing: bool) -> None:
        client = self._require_client()
        state = ChatPresence.CHAT_PRESENCE_COMPOSING if composing else ChatPresence.CHAT_PRESENCE_PAUSED
        with _translated_errors():
            await client.send_chat_presence(self._jid_for(phone), state, ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT)


@contextlib.contextmanager
def _translated_errors() -> Iterator[None]:
    """Timeouts and a missing socket may pass on retry (TransientError); anything else is
    WhatsApp refusing, and the neonize error is re-raised unchanged."""
    try:
        yield
    except NeonizeError as error:
        text = str(error).lower()
        if any(marker in text for marker in _NOT_CONNECTED_ERRORS):
            raise WhatsAppNotConnected(f"WhatsApp is not connected: {error}") from error
        if any(marker in text for marker in _TRANSIENT_SEND_ERRORS):
            raise TransientError(f"WhatsApp did not answer in time: {error}") from error
        raise


def _task_failure(task: asyncio.Task[None]) -> str:
    if task.cancelled():
        return "connection task cancelled"
    error = task.exception()
    if error is None:
        return "connection task ended"
    return f"{type(error).__name__}: {error}" if not str(error) else str(error)


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
