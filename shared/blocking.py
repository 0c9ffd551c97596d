"""Blocking work (SQLite) off the event loop, on one small pool per process.

Not ``asyncio.to_thread``: with the neonize transport the loop's default executor starts a daemon
thread per call (so shutdown never waits on neonize's stuck connect thread), and our own frequent,
short journal calls should not each start a thread.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

POOL_SIZE = 4
"""SQLite serialises writers anyway; a few threads keep reads from queueing behind a write."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool  # noqa: PLW0603 - one pool per process is the point
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=POOL_SIZE, thread_name_prefix="blocking-io")
        return _pool


async def run_blocking(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor(), functools.partial(fn, *args, **kwargs))
