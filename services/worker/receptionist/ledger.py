"""Side effects of a turn, recorded before they happen, so a retried batch never repeats them.

Before CREATE/CANCEL/RESCHEDULE reach the backend, the intent is written (``started``) under the
batch id; after the backend answers, its result (``done``) or refusal (``refused``). A retry of the
same batch numbers its side effects the same way (the n-th CREATE_BOOKING of the turn); finding
``done`` it reuses the result, finding ``started`` it asks the backend whether the change is
already there before acting again.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Literal

import redis

from shared import redis_keys
from shared.visits.own import OWN_MARKER

IntentStatus = Literal["started", "done", "refused"]


class TurnLedger:
    def __init__(self, client: redis.Redis, company_id: str, batch_id: str) -> None:
        self._client = client
        self._key = redis_keys.turn_ledger(company_id, batch_id)
        self._counts: Counter[str] = Counter()
        self.batch_id = batch_id

    def next_intent(self, command: str) -> str:
        """The id of this turn's next ``command`` side effect: ``CREATE_BOOKING#0``, ``#1``..."""
        intent = f"{command}#{self._counts[command]}"
        self._counts[command] += 1
        return intent

    def marker(self, intent: str) -> str:
        """Written into the booking's comment, so the booking can be recognised as this intent's."""
        return f"{OWN_MARKER}{self.batch_id}:{intent}"

    def read(self, intent: str) -> dict[str, Any] | None:
        raw = self._client.hget(self._key, intent)
        return None if raw is None else dict(json.loads(raw))

    def write(self, intent: str, status: IntentStatus, **fields: Any) -> None:
        record = {"status": status, **fields}
        with self._client.pipeline(transaction=True) as pipe:
            pipe.hset(self._key, intent, json.dumps(record, ensure_ascii=False, default=str))
            pipe.expire(self._key, redis_keys.LEDGER_TTL_SECONDS)
            pipe.execute()
