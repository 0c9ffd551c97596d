"""Prometheus metrics of the three services: every metric object, and how a ``/metrics`` body is made.

Names start with ``ai_admin_``; docs/operations.md lists them with a scrape config and alert rules.
What happens is counted here, where it happens (a send, a webhook, an AI turn, a backend call). What
is already known elsewhere (the gateway's health counters and journal, the RQ queue) is read when
Prometheus scrapes, by the service's own ``/metrics`` route, so there is one source for each number.

The worker forks WORKER_PROCESSES processes that run the jobs, so it runs prometheus-client's multiprocess
mode: each process writes its values to files under ``PROMETHEUS_MULTIPROC_DIR`` and the worker's metrics
port adds them up (``services/worker/metrics.py``). The variable must be in the environment before prometheus_client is
imported, and the worker wipes the directory at start. That is why every metric below has labels: a
metric without labels would open its file when this module is imported, before the wipe.
(tests/worker/test_worker_metrics.py fails when one doesn't.)
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from typing import ParamSpec, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from shared.errors import (
    AiAdminError,
    BackendUnavailable,
    BookingNotFound,
    BookingRefused,
    SlotTaken,
)

P = ParamSpec("P")
T = TypeVar("T")

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The classic text format that ``generate_latest`` writes and every Prometheus version reads."""

FAST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Local hops (gateway → api, the api's own handler, a send to WhatsApp)."""
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 90.0, 120.0)
"""An AI turn: milliseconds with the embedded provider, seconds with an LLM, at most TURN_TIMEOUT_SECONDS."""

# --- wa-gateway -------------------------------------------------------------------------------------

GATEWAY_WEBHOOK_SECONDS = Histogram(
    "ai_admin_gateway_webhook_seconds",
    "Gateway -> api webhook deliveries of journalled messages, by answer (2xx, 4xx, 5xx, unreachable)",
    ["status"],
    buckets=FAST_BUCKETS,
)
GATEWAY_SEND_SECONDS = Histogram(
    "ai_admin_gateway_send_seconds",
    "Sends through the WhatsApp transport (text, reaction), by outcome (sent, failed)",
    ["kind", "outcome"],
    buckets=FAST_BUCKETS,
)

# --- api ---------------------------------------------------------------------------------------------

API_WEBHOOK_SECONDS = Histogram(
    "ai_admin_api_webhook_seconds",
    "The api's webhook handler for the gateway's batches, by outcome (ok, error)",
    ["outcome"],
    buckets=FAST_BUCKETS,
)
API_WEBHOOK_MESSAGES = Counter(
    "ai_admin_api_webhook_messages",
    "Messages the api's webhook received, by result (added for the worker, duplicate)",
    ["result"],
)

# --- worker ------------------------------------------------------------------------------------------

AI_TURNS = Counter(
    "ai_admin_ai_turns",
    "Receptionist turns by configured provider and outcome (answered, fallback, courtesy, error)",
    ["provider", "outcome"],
)
AI_TURN_SECONDS = Histogram(
    "ai_admin_ai_turn_seconds",
    "Duration of a receptionist turn (understanding, provider, booking calls)",
    ["provider", "outcome"],
    buckets=TURN_BUCKETS,
)
BOOKINGS = Counter(
    "ai_admin_bookings",
    "Changes the receptionist made at the booking backend, by action (created, rescheduled, cancelled)",
    ["action"],
)

# --- booking backends (api and worker) ----------------------------------------------------------------

BACKEND_CALLS = Counter(
    "ai_admin_booking_backend_calls",
    "Booking backend calls by backend, endpoint and status (YClients: HTTP status, timeout, network_error;"
    " local: ok, slot_taken, not_found, refused, unavailable, error)",
    ["backend", "endpoint", "status"],
)
BACKEND_CALL_SECONDS = Histogram(
    "ai_admin_booking_backend_call_seconds",
    "Duration of one booking backend call",
    ["backend", "endpoint"],
    buckets=FAST_BUCKETS,
)


def status_class(status: int | None) -> str:
    """``2xx``... for an HTTP answer, ``unreachable`` for none: few label values, whatever the peer answers."""
    return "unreachable" if status is None else f"{status // 100}xx"


def error_status(error: BaseException) -> str:
    """A backend call's outcome in a word, from the error tree (most specific first)."""
    for kind, word in (
        (SlotTaken, "slot_taken"),
        (BookingNotFound, "not_found"),
        (BookingRefused, "refused"),
        (BackendUnavailable, "unavailable"),
        (AiAdminError, "error"),
    ):
        if isinstance(error, kind):
            return word
    return "error"


def measured_backend_call(backend: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Count and time each call of a backend method; the status comes from how it ended (the local backend)."""

    def decorate(call: Callable[P, T]) -> Callable[P, T]:
        endpoint = call.__name__

        @functools.wraps(call)
        def measured(*args: P.args, **kwargs: P.kwargs) -> T:
            started = time.perf_counter()
            status = "ok"
            try:
                return call(*args, **kwargs)
            except Exception as error:
                status = error_status(error)
                raise
            finally:
                BACKEND_CALLS.labels(backend, endpoint, status).inc()
                BACKEND_CALL_SECONDS.labels(backend, endpoint).observe(time.perf_counter() - started)

        return measured

    return decorate


# --- scrape-time values and the /metrics body ------------------------------------------------------------


class Snapshot:
    """Values read at scrape time (state, journal, queue), as metric families for one /metrics answer."""

    def __init__(self) -> None:
        self._families: list[Metric] = []

    def counter(self, name: str, documentation: str, value: float) -> None:
        self._families.append(CounterMetricFamily(name, documentation, value=value))

    def gauge(self, name: str, documentation: str, value: float) -> None:
        self._families.append(GaugeMetricFamily(name, documentation, value=value))

    def labelled_gauge(self, name: str, documentation: str, label: str, values: Iterable[tuple[str, float]]) -> None:
        family = GaugeMetricFamily(name, documentation, labels=[label])
        for label_value, value in values:
            family.add_metric([label_value], value)
        self._families.append(family)

    def collect(self) -> Iterable[Metric]:
        return list(self._families)


def exposition(snapshot: Snapshot | None = None) -> bytes:
    """This process's metrics (and the snapshot's), in Prometheus' text format.

    A fresh registry per answer for the snapshot: several apps in one process (tests, the legacy
    hosted session) must not register one collector twice in the global registry.
    """
    body = generate_latest(REGISTRY)
    if snapshot is not None:
        scraped = CollectorRegistry(auto_describe=False)
        scraped.register(snapshot)
        body += generate_latest(scraped)
    return body
