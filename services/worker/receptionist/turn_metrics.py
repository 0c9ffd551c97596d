"""Each receptionist turn counted and timed, by the configured provider and how the turn went.

Outcomes: ``answered`` (the configured provider's reply was used), ``fallback`` (the LLM failed or
wrote something untrue, and the embedded provider answered), ``courtesy`` (thanks or goodbye: no
provider asked), ``error`` (the turn raised; the job retries it). The provider label is the configured
one, so an operator sees "openai fell back 12 times", not "embedded answered 12 times".
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from services.worker.receptionist.decision import Decision
from services.worker.receptionist.providers.base import Provider
from shared.metrics import AI_TURN_SECONDS, AI_TURNS

P = ParamSpec("P")


class HasProvider(Protocol):
    provider: Provider


R = TypeVar("R", bound=HasProvider)


def turn_outcome(decision: Decision) -> str:
    if decision.provider == "rules":
        return "courtesy"
    return "answered" if decision.fallback_reason is None else "fallback"


def measured_turn(decide: Callable[Concatenate[R, P], Decision]) -> Callable[Concatenate[R, P], Decision]:
    @functools.wraps(decide)
    def measured(self: R, /, *args: P.args, **kwargs: P.kwargs) -> Decision:
        started = time.perf_counter()
        outcome = "error"
        try:
            decision = decide(self, *args, **kwargs)
            outcome = turn_outcome(decision)
            return decision
        finally:
            provider = self.provider.name
            AI_TURNS.labels(provider, outcome).inc()
            AI_TURN_SECONDS.labels(provider, outcome).observe(time.perf_counter() - started)

    return measured
