"""The health counters (``messagesSent``, ``messagesReceived``, ``errors``...) kept across restarts.

They are totals an operator reads on ``GET /health`` and Prometheus scrapes, so a restart must not
zero them. Counting stays in memory, where it happens (one integer, no I/O on the hot path); this keeper
restores the journal's totals at start, writes them back within a second of a change, and once more at
a graceful stop. A crash loses at most the last second's counts, never more.
"""

from __future__ import annotations

import asyncio
import sqlite3

from services.wa_gateway.journal import Journal
from services.wa_gateway.state import Metrics
from shared.blocking import run_blocking
from shared.logging import get_logger
from shared.tasks import cancel_and_wait

log = get_logger(__name__)

SAVE_INTERVAL_SECONDS = 1.0


class CounterKeeper:
    def __init__(self, metrics: Metrics, journal: Journal) -> None:
        self._metrics = metrics
        self._journal = journal
        self._saved: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Restore the totals of earlier runs, then save changes in the background."""
        saved = await run_blocking(self._journal.counters)
        self._metrics.restore(saved)
        self._saved = self._metrics.persisted()
        self._task = asyncio.create_task(self._run(), name="health-counters")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(SAVE_INTERVAL_SECONDS)
            await self.save()

    async def save(self) -> None:
        current = self._metrics.persisted()
        if current == self._saved:
            return
        try:
            await run_blocking(self._journal.save_counters, current)
        except sqlite3.Error as error:  # a full disk must not stop the gateway; the next change tries again
            log.warning("Could not save the health counters", error=str(error))
            return
        self._saved = current

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        await self.save()


async def keep_counters(metrics: Metrics, journal: Journal) -> CounterKeeper:
    keeper = CounterKeeper(metrics, journal)
    await keeper.start()
    return keeper
