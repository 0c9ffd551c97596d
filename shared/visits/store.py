"""The scheduler's snapshot of upcoming visits and its polling cursor, in Redis (``redis_keys.visits``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from pydantic import ValidationError

from shared import redis_keys
from shared.logging import get_logger
from shared.visits.state import VisitState

log = get_logger(__name__)

KEPT_AFTER_VISIT = timedelta(days=1)
"""A visit stays in the snapshot this long after it began (a late change to it is still not a notice)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    since: datetime
    """The newest change seen, by the backend's clock: the next poll asks from a little before it."""
    baseline_at: datetime
    """When the scheduler first listed the salon's visits: a visit created after it is news."""


class VisitStore:
    def __init__(self, client: redis.Redis, company_id: str) -> None:
        self._client = client
        self._key = redis_keys.visits(company_id)
        self._cursor_key = redis_keys.visits_cursor(company_id)

    def cursor(self) -> Cursor | None:
        raw = self._client.get(self._cursor_key)
        if raw is None:
            return None
        try:
            body = json.loads(raw)
            return Cursor(datetime.fromisoformat(body["since"]), datetime.fromisoformat(body["baselineAt"]))
        except (ValueError, TypeError, KeyError):
            log.warning("Unreadable visits cursor; listing the salon's visits again")
            return None

    def save_cursor(self, cursor: Cursor) -> None:
        body = {"since": cursor.since.isoformat(), "baselineAt": cursor.baseline_at.isoformat()}
        self._client.set(self._cursor_key, json.dumps(body))

    def get(self, visit_id: int) -> VisitState | None:
        raw = self._client.hget(self._key, str(visit_id))
        return self._parse(raw) if raw is not None else None

    def put(self, visit: VisitState) -> None:
        self._client.hset(self._key, str(visit.id), visit.model_dump_json())

    def all(self) -> list[VisitState]:
        found = []
        for raw in self._client.hvals(self._key):
            visit = self._parse(raw)
            if visit is not None:
                found.append(visit)
        return found

    def forget_before(self, moment: datetime) -> int:
        """Drop visits that began more than a day before ``moment``; returns how many."""
        old = [str(visit.id) for visit in self.all() if visit.start + KEPT_AFTER_VISIT < moment]
        return int(self._client.hdel(self._key, *old)) if old else 0

    @staticmethod
    def _parse(raw: bytes | str) -> VisitState | None:
        try:
            return VisitState.model_validate_json(raw)
        except ValidationError:
            return None
