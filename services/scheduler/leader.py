"""One scheduler at a time: a Redis lock renewed from a thread; a second scheduler stands by.

The holder's token names its host and pid, so a scheduler restarted after a ``kill -9`` on the same host
takes the dead one's lock back at once instead of waiting for it to expire.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid

import redis

from shared.locks import RedisLock
from shared.logging import get_logger
from shared.process import pid_alive

log = get_logger(__name__)

LOCK_TTL_SECONDS = 30.0


class LeaderLock:
    def __init__(self, client: redis.Redis, key: str, ttl_seconds: float = LOCK_TTL_SECONDS) -> None:
        self._client = client
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lock = RedisLock(client, key, self.token, int(ttl_seconds * 1000))
        self._held = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self) -> bool:
        """True while this scheduler leads; tries to take the lock when it does not."""
        if self._held.is_set():
            return True
        if not self._lock.acquire() and not self._take_from_the_dead():
            return False
        self._held.set()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._renew, name="scheduler-lock", daemon=True)
            self._thread.start()
        return True

    def _take_from_the_dead(self) -> bool:
        raw = self._client.get(self._lock.key)
        holder = raw.decode() if isinstance(raw, bytes) else str(raw or "")
        host, _, rest = holder.partition(":")
        pid = rest.partition(":")[0]
        if host != socket.gethostname() or not pid.isdigit() or pid_alive(int(pid)):
            return False
        # Only that holder's token is deleted: if someone else took it meanwhile, this does nothing.
        if self._client.eval(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
            1,
            self._lock.key,
            holder,
        ):
            log.warning("Took over the lock of a scheduler that died on this host", holder=holder)
        return self._lock.acquire()

    def _renew(self) -> None:
        while not self._stop.wait(self._lock.ttl_ms / 1000 / 3):
            if not self._held.is_set():
                continue
            try:
                if not self._lock.renew():
                    self._held.clear()
                    log.error("Scheduler lock lost; another scheduler may lead now")
            except redis.RedisError as error:
                log.warning("Scheduler lock renewal failed", error=str(error))

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=5)
        if self._held.is_set():
            self._held.clear()
            try:
                self._lock.release()
            except redis.RedisError as error:
                log.warning("Scheduler lock not released; it expires by itself", error=str(error))
