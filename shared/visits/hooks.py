"""YClients' webhook inbox: the api puts the ids of changed records in, the scheduler takes them out.

YClients signs nothing: the webhook URL carries a key (``?key=YCLIENTS_WEBHOOK_KEY``). Events are
deduplicated by their body's hash for five minutes (the original's debouncer). Only the record id is
trusted: the scheduler reads the record itself, so a forged body can at most make it look sooner.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import redis

from shared import redis_keys


class HookInbox:
    def __init__(self, client: redis.Redis, company_id: str) -> None:
        self._client = client
        self._company_id = company_id
        self._key = redis_keys.yclients_hook_inbox(company_id)

    def put(self, event: dict[str, Any], record_id: int) -> bool:
        """True when the event is new (and its record id is queued), False for a repeat within five minutes."""
        digest = hashlib.sha256(json.dumps(event, sort_keys=True, default=str).encode()).hexdigest()[:32]
        seen = redis_keys.yclients_hook_seen(self._company_id, digest)
        if not self._client.set(seen, 1, nx=True, ex=redis_keys.HOOK_SEEN_TTL_SECONDS):
            return False
        with self._client.pipeline(transaction=True) as pipe:
            pipe.rpush(self._key, record_id)
            pipe.ltrim(self._key, -redis_keys.HOOK_INBOX_KEPT, -1)
            pipe.execute()
        return True

    def wait(self, timeout_seconds: float, most: int = 100) -> list[int]:
        """Block up to ``timeout_seconds`` for ids, then take what else is there; [] when none came."""
        first = self._client.blpop([self._key], timeout=timeout_seconds)
        if first is None:
            return []
        raw: list[object] = [first[1]]
        while len(raw) < most:
            more = self._client.lpop(self._key)
            if more is None:
                break
            raw.append(more)
        return sorted({_record_id(item) for item in raw} - {0})


def _record_id(raw: object) -> int:
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return int(text) if text.isdigit() else 0
