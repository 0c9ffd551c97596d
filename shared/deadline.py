"""A turn's time budget, visible to every call made inside it.

A client's turn runs under one deadline (``TURN_TIMEOUT_SECONDS``); each backend or LLM call inside
takes ``min(its own timeout, what is left)``, so one slow YClients call can't hold a chat past its
job's timeout. Outside a turn (the api) there is no deadline and calls use their own timeouts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from shared.errors import TransientError, UpstreamUnavailable

_deadline: ContextVar[float | None] = ContextVar("deadline", default=None)

MIN_CALL_SECONDS = 0.5
"""Below this, a call is not worth starting: the turn is out of time."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Run a block under a budget; nested budgets can only shorten the outer one."""
    ends = time.monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(ends if outer is None else min(outer, ends))
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left in the current budget, or None outside any."""
    ends = _deadline.get()
    return None if ends is None else ends - time.monotonic()


def call_timeout(own_timeout: float, what: str, error: type[TransientError] = UpstreamUnavailable) -> float:
    """The timeout for one call: its own, cut to what the turn has left; raises ``error`` when nothing is."""
    left = remaining()
    if left is None:
        return own_timeout
    if left < MIN_CALL_SECONDS:
        raise error(f"no time left in this turn for {what}")
    return min(own_timeout, left)
