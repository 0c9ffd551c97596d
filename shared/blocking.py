"""The one way to run blocking code (SQLite, sync Redis and RQ, a sync booking backend) from async code.

Each process has a default pool (``run_blocking``); a service that must keep one kind of blocking
work from starving another gives it a pool of its own (the api: Redis intake apart from slow
booking-backend calls). Not ``asyncio.to_thread``: with the neonize transport the loop's default
executor starts a daemon thread per call (so shutdown never waits on neonize's stuck connect
thread), and our own frequent, short calls should not each start a thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_POOL_SIZE = 4
"""SQLite serialises writers anyway; a few threads keep reads from queueing behind a write."""


class BlockingPool:
    """A bounded, named pool of threads; its threads start on first use."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _threads(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix=self.name)
            return self._executor

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        # The caller's context travels along, so log lines from the thread keep company_id, chat and ids.
        call = functools.partial(contextvars.copy_context().run, functools.partial(fn, *args, **kwargs))
        return await loop.run_in_executor(self._threads(), call)

    def shutdown(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None


_default = BlockingPool("blocking-io", DEFAULT_POOL_SIZE)


async def run_blocking(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn`` on the process's default pool."""
    return await _default.run(fn, *args, **kwargs)
