"""Stopping asyncio tasks reliably."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

CANCEL_RETRY_SECONDS = 0.5


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for its end, cancelling again if the cancellation was lost.

    Python 3.11's ``asyncio.wait_for``, which redis-py wraps around every command it sends, drops a
    cancellation that arrives just as the command completes; the task then carries on (a standby polls
    the lease forever) and a plain ``await task`` hangs the shutdown with it. An exception the task
    ended with is raised here, as awaiting it would.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=CANCEL_RETRY_SECONDS)
    with contextlib.suppress(asyncio.CancelledError):
        task.result()
