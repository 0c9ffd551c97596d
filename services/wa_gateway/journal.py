"""The gateway's durable journal (SQLite, WAL, under DATA_DIR).

* ``inbound``: every message from WhatsApp is written here before the event handler returns,
  and stays ``pending`` until the api answers 2xx. A restart resumes the backlog.
* ``sent``: idempotency keys of replies already sent, with the WhatsApp message id, so a
  repeated send returns the original id instead of messaging the client twice.
* ``counters``: the totals ``GET /health`` reports (messages sent and received, errors...), so a
  restart does not zero them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shared.sqlite import SqliteStore
from shared.wire import InboundMessage

DELIVERED_RETENTION_SECONDS = 7 * 24 * 3600
SENT_KEY_RETENTION_SECONDS = 24 * 3600
"""How long a reply's idempotency key is remembered: longer than any worker retry schedule."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbound (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    received_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    settled_at REAL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS inbound_pending ON inbound(state, seq);
CREATE TABLE IF NOT EXISTS sent (
    idempotency_key TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    phone TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    seq: int
    message: InboundMessage


@dataclass(frozen=True, slots=True)
class Backlog:
    pending: int
    oldest_age_seconds: float | None
    rejected: int


class Journal:
    def __init__(self, path: Path) -> None:
        self._store = SqliteStore(path, _SCHEMA)

    def close(self) -> None:
        self._store.close()

    def append(self, message: InboundMessage) -> bool:
        """Store a message to forward; False when WhatsApp delivered this id before."""
        return self._insert(message.message_id, message.to_json(), "pending", None)

    def append_rejected(self, message_id: str, payload: dict[str, Any], error: str) -> bool:
        """Keep a message the api would refuse (it breaks the wire contract) for an operator to read."""
        return self._insert(message_id, json.dumps(payload, ensure_ascii=False), "rejected", error)

    def _insert(self, message_id: str, payload: str, state: str, error: str | None) -> bool:
        with self._store.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO inbound (message_id, payload, received_at, state, error) VALUES (?, ?, ?, ?, ?)",
                (message_id, payload, time.time(), state, error),
            )
            return cursor.rowcount == 1

    def pending(self, limit: int) -> list[JournalEntry]:
        """The oldest messages not yet delivered; a row that is no valid message is dead-lettered on the way."""
        while True:
            with self._store.reading() as db:
                rows = db.execute(
                    "SELECT seq, payload FROM inbound WHERE state = 'pending' ORDER BY seq LIMIT ?", (limit,)
                ).fetchall()
            entries = []
            for seq, payload in rows:
                try:
                    entries.append(JournalEntry(seq, InboundMessage.model_validate_json(payload)))
                except ValidationError as error:  # forwarding it would be refused forever
                    self.mark_rejected([seq], f"not a valid message: {error.errors()[0]['msg']}")
            if entries or not rows:
                return entries

    def _settle(self, seqs: list[int], state: str, error: str | None) -> None:
        if not seqs:
            return
        marks = ",".join("?" * len(seqs))
        with self._store.transaction() as db:
            db.execute(
                f"UPDATE inbound SET state = ?, settled_at = ?, error = ?, attempts = attempts + 1"
                f" WHERE seq IN ({marks}) AND state = 'pending'",
                (state, time.time(), error, *seqs),
            )

    def mark_delivered(self, seqs: list[int]) -> None:
        self._settle(seqs, "delivered", None)

    def mark_rejected(self, seqs: list[int], error: str) -> None:
        """Dead-letter entries the api refused as malformed; they stay for an operator to read."""
        self._settle(seqs, "rejected", error)

    def backlog(self) -> Backlog:
        with self._store.reading() as db:
            pending, oldest = db.execute(
                "SELECT COUNT(*), MIN(received_at) FROM inbound WHERE state = 'pending'"
            ).fetchone()
            (rejected,) = db.execute("SELECT COUNT(*) FROM inbound WHERE state = 'rejected'").fetchone()
        age = None if oldest is None else max(0.0, time.time() - oldest)
        return Backlog(pending=pending, oldest_age_seconds=age, rejected=rejected)

    def sent_message_id(self, idempotency_key: str) -> str | None:
        with self._store.reading() as db:
            row = db.execute(
                "SELECT message_id FROM sent WHERE idempotency_key = ? AND created_at > ?",
                (idempotency_key, time.time() - SENT_KEY_RETENTION_SECONDS),
            ).fetchone()
        return None if row is None else str(row[0])

    def record_sent(self, idempotency_key: str, message_id: str, phone: str) -> None:
        with self._store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO sent (idempotency_key, message_id, phone, created_at) VALUES (?, ?, ?, ?)",
                (idempotency_key, message_id, phone, time.time()),
            )

    def counters(self) -> dict[str, int]:
        with self._store.reading() as db:
            return {str(name): int(value) for name, value in db.execute("SELECT name, value FROM counters")}

    def save_counters(self, values: Mapping[str, int]) -> None:
        with self._store.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", list(values.items()))

    def prune(self) -> int:
        now = time.time()
        with self._store.transaction() as db:
            removed = db.execute(
                "DELETE FROM inbound WHERE state = 'delivered' AND settled_at < ?",
                (now - DELIVERED_RETENTION_SECONDS,),
            ).rowcount
            removed += db.execute("DELETE FROM sent WHERE created_at < ?", (now - SENT_KEY_RETENTION_SECONDS,)).rowcount
        return removed
