"""Job functions for tests that put their own jobs on the worker's queue (imported by the worker by dotted path)."""

from __future__ import annotations

import contextlib
import time


def sleep_through_timeouts(seconds: float) -> None:
    """Run ``seconds`` whatever happens: RQ's timeout is swallowed, as a careless ``except Exception`` would."""
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        with contextlib.suppress(Exception):  # the point: a job that RQ's alarm can't stop
            time.sleep(0.1)
