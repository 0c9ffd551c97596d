"""Where neonize keeps the WhatsApp session, and the rules around it.

* sqlite under DATA_DIR by default, or any path or postgres DSN in WA_SESSION_DB;
* an exclusive ``flock`` next to it, so two local processes can never open one session;
* a store that holds another phone than WHATSAPP_PHONE_NUMBER is wiped before pairing.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sqlite3
from pathlib import Path

from services.wa_gateway.transport.neonize_events import jid_user_from_string
from services.wa_gateway.transport.neonize_options import NeonizeOptions
from shared.errors import ConfigurationError, InvalidPhone
from shared.logging import get_logger
from shared.phones import normalize_phone

log = get_logger(__name__)


class SessionStore:
    def __init__(self, options: NeonizeOptions) -> None:
        self._options = options
        self._lock_fd: int | None = None
        db = options.wa_session_db.strip()
        self.is_postgres = db.startswith("postgres")
        self.path: Path | None
        if self.is_postgres:
            self.name = db
            digest = hashlib.sha256(db.encode()).hexdigest()[:16]
            # A DSN has no local file to lock next to, yet two local processes must still not share it.
            self.lock_path = options.data_dir / f"whatsapp-session-{digest}.lock"
            self.path = None
        else:
            self.path = Path(db) if db else options.data_dir / f"whatsapp-{options.company_id}.sqlite"
            self.name = str(self.path)
            self.lock_path = self.path.with_name(self.path.name + ".lock")

    def lock(self) -> None:
        if self._lock_fd is not None:
            return
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            shown = "(postgres)" if self.is_postgres else self.name
            raise ConfigurationError(
                f"another process owns the session store {shown} (lock {self.lock_path} is held);"
                " run one wa-gateway per WhatsApp number"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def unlock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            os.close(fd)

    def prepare(self) -> str | None:
        """Create the directory, drop a store that belongs to another number; the stored phone, if any."""
        if self.path is None:
            return None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        stored = read_stored_phone(self.path)
        expected = self.configured_phone()
        if stored is not None and expected is not None and stored != expected:
            log.warning(
                "The session store belongs to another WhatsApp number; deleting it so this one can pair",
                stored_phone=stored,
                configured_phone=expected,
                session_db=str(self.path),
            )
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    Path(str(self.path) + suffix).unlink()
            stored = None
        return stored

    def configured_phone(self) -> str | None:
        raw = self._options.whatsapp_phone_number.strip()
        if not raw:
            return None
        try:
            return normalize_phone(raw, self._options.default_region)
        except InvalidPhone as error:
            raise ConfigurationError(f"WHATSAPP_PHONE_NUMBER: {error}") from None


def read_stored_phone(db_path: Path) -> str | None:
    """The phone of the device whatsmeow stored in a sqlite session store, or None.

    Read with sqlite3 directly: neonize's get_me() aborts the process when called before
    connect (docs/neonize.md §7) and would create the store as a side effect.
    """
    if not db_path.exists():
        return None
    try:
        db = sqlite3.connect(db_path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        row = db.execute("SELECT jid FROM whatsmeow_device WHERE jid IS NOT NULL AND jid != '' LIMIT 1").fetchone()
    except sqlite3.Error:
        return None  # not a whatsmeow store yet (created on the first connect)
    finally:
        db.close()
    if row is None:
        return None
    return jid_user_from_string(str(row[0])) or None
