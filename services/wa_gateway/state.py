"""What the session owner knows about its WhatsApp session; ``GET /health`` reads it and nothing else."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from shared.wire import SessionStatus

PERSISTED_COUNTERS = ("messages_sent", "messages_received", "errors", "failed_reconnects", "reconnect_attempts")
"""Counters an operator reads on /health as totals: kept in the journal, so a restart does not zero them."""


@dataclass
class Metrics:
    messages_sent: int = 0
    messages_received: int = 0
    errors: int = 0
    """Failed text sends and connection failures (a failed connect, a lost, replaced or refused connection)."""
    failed_reconnects: int = 0
    reconnect_attempts: int = 0
    """Connection attempts after the first one of this process: after a failure, a disconnect, an operator's request."""
    qr_codes_generated: int = 0
    last_error: str | None = None

    def persisted(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in PERSISTED_COUNTERS}

    def restore(self, saved: dict[str, int]) -> None:
        """Add the totals of earlier runs (added, so nothing counted before the restore is lost)."""
        for name in PERSISTED_COUNTERS:
            setattr(self, name, getattr(self, name) + saved.get(name, 0))

    def as_json(self, connected: bool) -> dict[str, Any]:
        return {
            "totalSessions": 1,
            "activeConnections": 1 if connected else 0,
            "messagesSent": self.messages_sent,
            "messagesReceived": self.messages_received,
            "errors": self.errors,
            "failedReconnects": self.failed_reconnects,
            "reconnectAttempts": self.reconnect_attempts,
            "qrCodesGenerated": self.qr_codes_generated,
            "lastError": self.last_error,
        }


@dataclass
class SessionState:
    status: SessionStatus = SessionStatus.STARTING
    connected: bool = False
    phone_number: str | None = None
    reason: str | None = None
    qr: str | None = None
    ban_expires_at: int | None = None
    """Unix seconds when a temporary ban ends, as WhatsApp reported it."""
    since: float = field(default_factory=time.time)
    metrics: Metrics = field(default_factory=Metrics)

    def set(self, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(self, key, value)
        self.since = time.time()
