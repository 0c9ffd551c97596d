"""The trivial job of RQ's no-op ceiling (bench/workers.py): the worker's own cost per job, with nothing to do."""

from __future__ import annotations


def noop() -> None:
    return None
