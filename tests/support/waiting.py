from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T | None], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll until ``condition`` returns something truthy; fail naming ``what`` after ``timeout``.

    The timeout is a ceiling against hangs, not an assertion about speed. An ``AssertionError`` from
    the condition fails at once: a reply sent twice stays sent twice, and waiting can't undo it.
    Other errors are tolerated until the deadline, since a service may still be starting.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = condition()
        except AssertionError:
            raise
        except Exception as error:
            last_error = error
        else:
            if result:
                return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last error: {last_error!r}")
