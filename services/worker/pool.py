"""WORKER_PROCESSES worker processes forked from the worker's warmed main process: supervisord's ``worker``.

Forked rather than started one by one (supervisord's numprocs): a worker process that imports and loads
everything itself takes about 75 MB (PSS), and its warm-up about 2 s of CPU. Forked from a parent that
did it once (the modules, pymorphy3's dictionaries, dateparser's data, moved out of the garbage
collector's way with ``gc.freeze`` so it doesn't write to their pages), each shares those pages and
takes a share of them plus what it writes itself (docs/reliability.md, "The worker processes").

The parent runs no jobs. It serves the metrics port (``services/worker/metrics.py``), starts a process
again when one exits (at once, or after a pause growing to MAX_RESTART_PAUSE_SECONDS while they keep
dying within seconds of starting), and on SIGTERM or SIGINT passes the signal on and returns once every
process has finished its current job (RQ's warm shutdown). A process whose parent was killed with -9
gets SIGTERM from the kernel (the parent-death signal): it finishes its job and exits, so it never
lives on beside the pool supervisord starts again.

The parent waits on a self-pipe (``signal.set_wakeup_fd``): a child's exit (SIGCHLD) or a stop request
wakes it; nothing polls.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import random
import select
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

from shared.logging import get_logger

log = get_logger(__name__)

QUICK_EXIT_SECONDS = 10.0
"""A process that exits sooner than this after its start counts as failing; its next start waits."""
MAX_RESTART_PAUSE_SECONDS = 30.0
PR_SET_PDEATHSIG = 1
"""linux/prctl.h: the signal this process gets when its parent dies."""


class WorkerPool:
    """Forks ``processes`` children that each run ``work(number)`` (1-based) and keeps that many running."""

    def __init__(self, processes: int, work: Callable[[int], None]) -> None:
        self.processes = processes
        self._work = work
        self._children: dict[int, int] = {}
        """pid -> process number."""
        self._started: dict[int, float] = {}
        self._failures: dict[int, int] = {}
        self._restart_at: dict[int, float] = {}
        """process number -> when (monotonic) to start it again."""
        self._stopping = False
        self._wakeup: tuple[int, int] | None = None

    @property
    def pids(self) -> dict[int, int]:
        """Each live process's pid -> its number."""
        return dict(self._children)

    def start(self) -> None:
        """Take over SIGTERM, SIGINT and SIGCHLD and fork every process; ``supervise`` then keeps them running."""
        read_end, write_end = os.pipe()
        for end in (read_end, write_end):
            os.set_blocking(end, False)
        self._wakeup = (read_end, write_end)
        signal.set_wakeup_fd(write_end)
        # A Python handler, so the kernel's SIGCHLD reaches the wakeup pipe; the loop reaps.
        signal.signal(signal.SIGCHLD, _ignore)
        signal.signal(signal.SIGTERM, self._request_stop)
        signal.signal(signal.SIGINT, self._request_stop)
        # What the processes inherit stays shared: a collection would write to every object's page.
        gc.freeze()
        for number in range(1, self.processes + 1):
            self._spawn(number)

    def supervise(self) -> None:
        """Restart processes that exit until a stop is requested; returns when the last one has exited."""
        assert self._wakeup is not None, "start() first"
        while True:
            self._reap()
            if self._stopping and not self._children:
                break
            if not self._stopping:
                self._restart_due()
            pause = self._next_restart_in()
            select.select([self._wakeup[0]], [], [], pause)
            with contextlib.suppress(BlockingIOError):
                while os.read(self._wakeup[0], 512):
                    pass
        log.info("Every worker process has exited")

    def _request_stop(self, signum: int, _frame: FrameType | None) -> None:
        # supervisord signals the whole group, so the processes may get this twice: RQ ignores a second
        # signal within a second, and a later one (an operator insisting) stops their jobs at once.
        self._stopping = True
        for pid in list(self._children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def _spawn(self, number: int) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            self._run_child(number, parent)
        self._children[pid] = number
        self._started[number] = time.monotonic()
        self._restart_at.pop(number, None)
        log.info("Worker process started", process=number, pid=pid)
        if self._stopping:  # asked to stop while forking: this one missed the signal passed on
            os.kill(pid, signal.SIGTERM)

    def _run_child(self, number: int, parent: int) -> NoReturn:
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            if self._wakeup is not None:
                for end in self._wakeup:
                    os.close(end)
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                signal.signal(signum, signal.SIG_DFL)
            _die_with(parent)
            random.seed()  # not the parent's sequence
            self._work(number)
            code = 0
        except SystemExit as error:
            code = error.code if isinstance(error.code, int) else 1
        except BaseException:
            log.exception("Worker process failed", process=number)
        finally:
            # os._exit skips the interpreter's cleanup, and with it the flush of the last log lines.
            logging.shutdown()
            with contextlib.suppress(Exception):
                sys.stdout.flush()
            os._exit(code)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            number = self._children.pop(pid, None)
            if number is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if self._stopping:
                log.info("Worker process exited", process=number, pid=pid, exit_code=code)
                continue
            lived = time.monotonic() - self._started.get(number, 0.0)
            failures = self._failures.get(number, 0) + 1 if lived < QUICK_EXIT_SECONDS else 0
            self._failures[number] = failures
            pause = 0.0 if not failures else min(2.0 ** (failures - 1), MAX_RESTART_PAUSE_SECONDS)
            self._restart_at[number] = time.monotonic() + pause
            # A negative exit code is the signal that ended it (-9: killed).
            log.warning("Worker process exited; starting another", process=number, pid=pid, exit_code=code, pause=pause)

    def _restart_due(self) -> None:
        now = time.monotonic()
        for number, at in sorted(self._restart_at.items()):
            if at <= now:
                self._spawn(number)

    def _next_restart_in(self) -> float | None:
        if self._stopping or not self._restart_at:
            return None
        return max(0.0, min(self._restart_at.values()) - time.monotonic())


def _ignore(_signum: int, _frame: FrameType | None) -> None:
    """SIGCHLD only has to wake ``supervise`` (through the wakeup pipe)."""


def _die_with(parent: int) -> None:
    """Ask the kernel for SIGTERM when the parent dies (Linux); if it already has, stop now."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: an orphan then runs until it is stopped
        return
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)
