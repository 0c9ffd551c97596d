"""Workarounds for how neonize uses the asyncio event loop (docs/neonize.md §1, §9)."""

from __future__ import annotations

# Must run before anything imports neonize (see the module).
import services.wa_gateway.transport.neonize_import  # noqa: F401

# isort: split

import asyncio
import concurrent.futures
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import neonize.aioze.events as neonize_dispatch

from shared.errors import ConfigurationError

T = TypeVar("T")


class DaemonThreadExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs every job in its own daemon thread and never waits for them on shutdown.

    neonize runs the whole session as one blocking Go call in the loop's default executor,
    and for a client that was never paired that call never returns, even after ``stop()``
    (docs/neonize.md §1, §9). With the standard executor, uvicorn and ``asyncio.run`` would
    then hang at exit joining that thread; daemon threads let the process exit.
    """

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="neonize")

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)

        threading.Thread(target=run, name="neonize-worker", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        return None


_LOOPS_WITH_DAEMON_EXECUTOR: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def install_daemon_executor(loop: asyncio.AbstractEventLoop) -> None:
    if loop not in _LOOPS_WITH_DAEMON_EXECUTOR:
        loop.set_default_executor(DaemonThreadExecutor())
        _LOOPS_WITH_DAEMON_EXECUTOR.add(loop)


def bind_neonize_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Point neonize's process-global dispatch loop at ``loop``.

    neonize sets ``event_global_loop`` only while it is None (docs/neonize.md §1), so after a
    test's or an app's previous loop closed, every event would be sent to a dead loop.
    """
    bound_loop = neonize_dispatch.event_global_loop
    if bound_loop is loop:
        return
    if bound_loop is not None and bound_loop.is_running() and not bound_loop.is_closed():
        raise ConfigurationError("neonize already delivers its events to another running event loop in this process")
    neonize_dispatch.event_global_loop = loop
