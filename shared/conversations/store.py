"""The conversation store: SQLite in WAL mode, shared by the gateway, the api and the worker on one machine.

Every write is idempotent (a redelivered message, a retried reply or a replayed turn is stored
once), so a process may record whatever it saw without asking whether someone else already did.
Calls block; from async code call them through ``shared.blocking.run_blocking``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from shared.conversations.models import Author, ChatSummary, TranscriptEntry, Turn
from shared.sqlite import SqliteStore
from shared.wire import InboundMessage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
    chat TEXT PRIMARY KEY,
    name TEXT,
    paused_until_ms INTEGER NOT NULL DEFAULT 0,
    paused_by TEXT,
    last_at_ms INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    author TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    message_id TEXT,
    dedupe_key TEXT NOT NULL UNIQUE,
    batch_id TEXT,
    in_reply_to TEXT,
    at_ms INTEGER NOT NULL,
    held INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_by_chat ON messages (chat, id);
CREATE INDEX IF NOT EXISTS messages_by_age ON messages (at_ms);
CREATE INDEX IF NOT EXISTS messages_held ON messages (chat, id) WHERE held = 1;
CREATE TABLE IF NOT EXISTS turns (
    batch_id TEXT PRIMARY KEY,
    chat TEXT NOT NULL,
    provider TEXT NOT NULL,
    commands TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_by_chat ON turns (chat);
"""


def conversations_path(data_dir: Path, company_id: str) -> Path:
    return data_dir / f"conversations-{company_id}.sqlite"


def now_ms() -> int:
    return int(time.time() * 1000)


class ConversationStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = SqliteStore(path, _SCHEMA)

    def close(self) -> None:
        self._db.close()

    # --- what crossed WhatsApp ---------------------------------------------------------------

    def record_inbound(
        self,
        chat: str,
        text: str,
        message_id: str,
        *,
        kind: str = "text",
        name: str | None = None,
        at_ms: int | None = None,
    ) -> bool:
        """A client's message; False when it was already stored. Held when it arrives while the AI is paused."""
        at = at_ms if at_ms is not None else now_ms()
        with self._db.transaction() as db:
            held = _pause_end(self._touch(db, chat, at, name), now_ms()) is not None
            if self._stored(db, f"in:{message_id}"):
                return False
            cursor = db.execute(
                "INSERT OR IGNORE INTO messages"
                " (chat, direction, author, kind, text, message_id, dedupe_key, at_ms, held)"
                " VALUES (?, 'in', ?, ?, ?, ?, ?, ?, ?)",
                (chat, Author.CLIENT.value, kind, text, message_id, f"in:{message_id}", at, int(held)),
            )
            return cursor.rowcount == 1

    def record_client_message(self, message: InboundMessage) -> bool:
        """``record_inbound`` for a message as it crosses the processes (the gateway's journal, the worker's batch)."""
        return self.record_inbound(
            message.chat,
            message.text,
            message.message_id,
            kind=message.type,
            name=message.push_name,
            at_ms=message.timestamp,
        )

    def record_outbound(
        self,
        chat: str,
        text: str,
        author: Author,
        *,
        dedupe_key: str,
        message_id: str | None = None,
        batch_id: str | None = None,
        in_reply_to: str | None = None,
        kind: str = "text",
        at_ms: int | None = None,
    ) -> bool:
        """A reply or reaction that WhatsApp accepted; False when this key was already stored.

        A person's reply answers whatever the client was waiting on, so held messages stop waiting.
        """
        at = at_ms if at_ms is not None else now_ms()
        with self._db.transaction() as db:
            self._touch(db, chat, at, None)
            if self._stored(db, f"out:{dedupe_key}"):
                return False
            cursor = db.execute(
                "INSERT OR IGNORE INTO messages"
                " (chat, direction, author, kind, text, message_id, dedupe_key, batch_id, in_reply_to, at_ms)"
                " VALUES (?, 'out', ?, ?, ?, ?, ?, ?, ?, ?)",
                (chat, author.value, kind, text, message_id, f"out:{dedupe_key}", batch_id, in_reply_to, at),
            )
            if cursor.rowcount == 1 and author is Author.PERSON:
                db.execute("UPDATE messages SET held = 0 WHERE chat = ? AND held = 1", (chat,))
            return cursor.rowcount == 1

    def record_reaction(
        self,
        chat: str,
        emoji: str,
        target_message_id: str,
        author: Author,
        at_ms: int,
        idempotency_key: str | None = None,
    ) -> bool:
        """An emoji on a message, from the client or to the client; False when already stored."""
        direction = "in" if author is Author.CLIENT else "out"
        unique = idempotency_key or f"{target_message_id}:{emoji}:{at_ms}"
        with self._db.transaction() as db:
            self._touch(db, chat, at_ms, None)
            if self._stored(db, f"reaction:{direction}:{unique}"):
                return False
            cursor = db.execute(
                "INSERT OR IGNORE INTO messages (chat, direction, author, kind, text, dedupe_key, in_reply_to, at_ms)"
                " VALUES (?, ?, ?, 'reaction', ?, ?, ?, ?)",
                (
                    chat,
                    direction,
                    author.value,
                    emoji,
                    f"reaction:{direction}:{unique}",
                    target_message_id,
                    at_ms,
                ),
            )
            return cursor.rowcount == 1

    def is_outbound(self, chat: str, message_id: str) -> bool:
        """Whether WhatsApp's ``message_id`` is a reply already stored for ``chat`` (an echo of our own send)."""
        with self._db.reading() as db:
            row = db.execute(
                "SELECT 1 FROM messages WHERE chat = ? AND direction = 'out' AND message_id = ?", (chat, message_id)
            ).fetchone()
        return row is not None

    # --- the AI's pause ----------------------------------------------------------------------

    def pause(self, chat: str, until_ms: int, by: str, *, extend_only: bool = False) -> int:
        """Stop the AI answering ``chat`` until ``until_ms``; returns the pause's end.

        ``extend_only``: never shorten a pause already running (the salon's own messages do this,
        so an operator's two-hour takeover is not cut to an hour by a quick reply from the phone).
        """
        with self._db.transaction() as db:
            paused_until_ms = self._touch(db, chat, None, None)
            if extend_only:
                current = _pause_end(paused_until_ms, now_ms())
                if current is not None and current >= until_ms:
                    return current
            db.execute("UPDATE chats SET paused_until_ms = ?, paused_by = ? WHERE chat = ?", (until_ms, by, chat))
            return until_ms

    def release(self, chat: str) -> None:
        with self._db.transaction() as db:
            db.execute("UPDATE chats SET paused_until_ms = 0, paused_by = NULL WHERE chat = ?", (chat,))

    def paused_until(self, chat: str, at_ms: int | None = None) -> int | None:
        """When the AI's pause for ``chat`` ends (Unix ms), or None when the AI answers it."""
        with self._db.reading() as db:
            return self._paused_until(db, chat, at_ms if at_ms is not None else now_ms())

    # --- what the worker adds ----------------------------------------------------------------

    def hold(self, chat: str, message_ids: Iterable[str]) -> None:
        """The AI did not answer these (its pause): they wait for a person, or the bot's next turn.

        One a person has already answered (a reply of theirs came after it) does not wait any more.
        """
        keys = [(chat, f"in:{message_id}") for message_id in message_ids]
        with self._db.transaction() as db:
            db.executemany(
                "UPDATE messages SET held = 1 WHERE chat = ? AND dedupe_key = ? AND NOT EXISTS"
                " (SELECT 1 FROM messages answer WHERE answer.chat = messages.chat AND answer.direction = 'out'"
                " AND answer.author = 'person' AND answer.id > messages.id)",
                keys,
            )

    def held_messages(self, chat: str) -> list[TranscriptEntry]:
        """Client messages the AI did not answer during a pause and no person answered since, oldest first."""
        with self._db.reading() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE chat = ? AND held = 1 ORDER BY id", (chat,)
            ).fetchall()
        return [_entry(row, None) for row in rows]

    def record_turn(
        self, chat: str, batch_id: str, provider: str, commands: Sequence[dict[str, object]], message_ids: Iterable[str]
    ) -> None:
        """The turn that answered ``message_ids`` (the batch and any held messages it took in)."""
        keys = [(batch_id, chat, f"in:{message_id}") for message_id in message_ids]
        with self._db.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO turns (batch_id, chat, provider, commands, at_ms) VALUES (?, ?, ?, ?, ?)",
                (batch_id, chat, provider, json.dumps(list(commands), ensure_ascii=False, default=str), now_ms()),
            )
            db.executemany("UPDATE messages SET batch_id = ?, held = 0 WHERE chat = ? AND dedupe_key = ?", keys)

    # --- reading -----------------------------------------------------------------------------

    def chats(self, limit: int = 50) -> list[ChatSummary]:
        """Most recently active chats first."""
        return self._summaries("", (), limit)

    def summary(self, chat: str) -> ChatSummary | None:
        found = self._summaries(" AND c.chat = ?", (chat,), 1)
        return found[0] if found else None

    def _summaries(self, where: str, params: tuple[str, ...], limit: int) -> list[ChatSummary]:
        at = now_ms()
        with self._db.reading() as db:
            rows = db.execute(
                "SELECT c.chat, c.name, c.paused_until_ms, c.paused_by,"
                " (SELECT text FROM messages m WHERE m.chat = c.chat ORDER BY id DESC LIMIT 1),"
                " (SELECT author FROM messages m WHERE m.chat = c.chat ORDER BY id DESC LIMIT 1),"
                " (SELECT at_ms FROM messages m WHERE m.chat = c.chat ORDER BY id DESC LIMIT 1),"
                " (SELECT count(*) FROM messages m WHERE m.chat = c.chat AND held = 1)"
                f" FROM chats c WHERE EXISTS (SELECT 1 FROM messages m WHERE m.chat = c.chat){where}"
                " ORDER BY c.last_at_ms DESC LIMIT ?",
                (*params, limit),
            ).fetchall()
        summaries = []
        for chat, name, paused_until_ms, paused_by, text, author, last_at, waiting in rows:
            paused = paused_until_ms > at
            summaries.append(
                ChatSummary(
                    phone=chat,
                    name=name,
                    last_message=text,
                    last_author=Author(author) if author else None,
                    last_at=last_at,
                    unanswered=author == Author.CLIENT.value,
                    waiting=waiting,
                    ai_paused=paused,
                    paused_until=paused_until_ms if paused else None,
                    paused_by=paused_by if paused else None,
                )
            )
        return summaries

    def last_message(self, direction: str) -> tuple[str, TranscriptEntry] | None:
        """The newest message ``in`` (from a client) or ``out`` (to one) in any chat, with its chat.

        The operator's page shows both: traffic in one direction only points at the half that is stuck.
        """
        with self._db.reading() as db:
            row = db.execute(
                f"SELECT chat, {_COLUMNS} FROM messages WHERE direction = ? ORDER BY id DESC LIMIT 1", (direction,)
            ).fetchone()
        return None if row is None else (str(row[0]), _entry(row[1:], None))

    def transcript(self, chat: str, limit: int = 200) -> list[TranscriptEntry]:
        """The last ``limit`` messages of ``chat``, oldest first; bot replies carry their turn's commands."""
        with self._db.reading() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE chat = ? ORDER BY id DESC LIMIT ?", (chat, limit)
            ).fetchall()
            batch_ids = {row[6] for row in rows if row[6] and row[1] == Author.BOT.value}
            turns: dict[str, Turn] = {}
            for batch_id in batch_ids:
                found = db.execute(
                    "SELECT batch_id, provider, commands, at_ms FROM turns WHERE batch_id = ?", (batch_id,)
                ).fetchone()
                if found is not None:
                    turns[batch_id] = Turn(
                        batch_id=found[0], provider=found[1], commands=json.loads(found[2]), at=found[3]
                    )
        return [
            _entry(row, turns.get(row[6]) if row[1] == Author.BOT.value and row[6] else None) for row in reversed(rows)
        ]

    # --- retention ---------------------------------------------------------------------------

    def purge_older_than(self, cutoff_ms: int) -> int:
        """Delete messages and turns older than ``cutoff_ms``; returns how many messages went."""
        with self._db.transaction() as db:
            deleted = db.execute("DELETE FROM messages WHERE at_ms < ?", (cutoff_ms,)).rowcount
            db.execute("DELETE FROM turns WHERE at_ms < ?", (cutoff_ms,))
            db.execute(
                "DELETE FROM chats WHERE paused_until_ms < ? AND NOT EXISTS"
                " (SELECT 1 FROM messages m WHERE m.chat = chats.chat)",
                (now_ms(),),
            )
            return deleted

    def forget(self, chat: str) -> int:
        """Delete everything stored about one client (their right to erasure); returns messages deleted."""
        with self._db.transaction() as db:
            deleted = db.execute("DELETE FROM messages WHERE chat = ?", (chat,)).rowcount
            db.execute("DELETE FROM turns WHERE chat = ?", (chat,))
            db.execute("DELETE FROM chats WHERE chat = ?", (chat,))
            return deleted

    # --- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _touch(db: sqlite3.Connection, chat: str, at_ms: int | None, name: str | None) -> int:
        """The chat's row, created if new, with its latest activity and name; returns its ``paused_until_ms``.

        One statement where there were four (insert, two updates, read back): every message and reply
        passes here. Unchanged values leave the row as it was, so SQLite writes nothing for them.
        """
        rows = db.execute(
            "INSERT INTO chats (chat, name, last_at_ms) VALUES (?, ?, max(?, 0)) ON CONFLICT (chat) DO UPDATE"
            " SET last_at_ms = max(last_at_ms, excluded.last_at_ms), name = coalesce(excluded.name, name)"
            " RETURNING paused_until_ms",
            (chat, name or None, at_ms if at_ms is not None else 0),
        ).fetchall()  # to the end: the statement is done before the transaction commits
        return int(rows[0][0])

    @staticmethod
    def _stored(db: sqlite3.Connection, dedupe_key: str) -> bool:
        """Whether a message with this key is stored already. Asked before inserting because an ignored
        INSERT into this AUTOINCREMENT table still rewrites sqlite_sequence: a page written and synced for
        nothing, on every turn, as the worker records the message the gateway already did."""
        return db.execute("SELECT 1 FROM messages WHERE dedupe_key = ?", (dedupe_key,)).fetchone() is not None

    @staticmethod
    def _paused_until(db: sqlite3.Connection, chat: str, at_ms: int) -> int | None:
        row = db.execute("SELECT paused_until_ms FROM chats WHERE chat = ?", (chat,)).fetchone()
        return None if row is None else _pause_end(int(row[0]), at_ms)


def _pause_end(paused_until_ms: int, at_ms: int) -> int | None:
    """When a pause running at ``at_ms`` ends, or None when none runs then."""
    return paused_until_ms if paused_until_ms > at_ms else None


_COLUMNS = "direction, author, kind, text, at_ms, message_id, batch_id, in_reply_to, held"


def _entry(row: tuple[object, ...], turn: Turn | None) -> TranscriptEntry:
    direction, author, kind, text, at, message_id, batch_id, in_reply_to, held = row
    return TranscriptEntry(
        direction=str(direction),
        author=Author(str(author)),
        kind=str(kind),
        text=str(text),
        at=int(str(at)),
        message_id=str(message_id) if message_id is not None else None,
        batch_id=str(batch_id) if batch_id is not None else None,
        in_reply_to=str(in_reply_to) if in_reply_to is not None else None,
        held=bool(held),
        turn=turn,
    )
