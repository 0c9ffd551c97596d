"""HTTP to the YClients REST API: the envelope, auth, error mapping, our side of the rate limit, retries.

Everything that knows about status codes lives here; ``backend.py`` only maps shapes. The rules:

* every request's timeout is ``min(YCLIENTS_TIMEOUT_SECONDS, what the turn has left)``
  (``shared.deadline``); with nothing left the request is not sent at all;
* before sending, a slot is taken from a limiter shared by every process of the company through
  Redis (YClients allows 5 requests a second and 200 a minute); when there is none we wait, but never
  past the turn's deadline;
* 429 is retried with exponential backoff (honouring ``Retry-After``): the request was rejected, so
  repeating it can't do anything twice. Reads (GET) are also retried after 5xx and network errors.
  Writes (POST/PUT/DELETE) never are: YClients may have done the change before the answer was lost,
  so the caller gets ``BackendUnavailable`` and reconciles (the receptionist's turn ledger does);
* tokens never leave this module: not in log lines, not in error messages.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import redis
from tenacity import RetryCallState, Retrying, retry_if_exception

from shared import redis_keys
from shared.deadline import MIN_CALL_SECONDS, call_timeout, remaining
from shared.errors import BackendUnavailable, BookingRefused, SlotTaken
from shared.logging import get_logger
from shared.metrics import BACKEND_CALL_SECONDS, BACKEND_CALLS
from shared.tls import tls_context

log = get_logger(__name__)

ACCEPT = "application/vnd.yclients.v2+json"
RATE_PER_SECOND = 5
RATE_PER_MINUTE = 200
SECOND_WINDOW_MS = 1_100
MINUTE_WINDOW_MS = 61_000
"""Our windows are a little longer than YClients' (1 s, 60 s): a request reaches them some milliseconds
after we counted it, and a burst whose first request was slower (a new connection) must not land inside
their window together with the next burst."""

RATE_LIMITED_ATTEMPTS = 4
READ_ATTEMPTS = 3
BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 8.0
RETRY_AFTER_MAX_SECONDS = 30.0
"""A ``Retry-After`` longer than this is not waited out in-process: the turn is retried later instead."""

REDIS_RETRY_AFTER_SECONDS = 30.0
"""After Redis fails, the in-process limiter is used this long before Redis is tried again."""

SLOT_TAKEN_CODE = 433


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer: the envelope's ``data`` and ``meta`` (both None for 204)."""

    status: int
    data: Any
    meta: Any


class RateLimited(BackendUnavailable):
    """YClients answered 429; retried with backoff, raised once patience (or the turn) runs out."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unreachable(BackendUnavailable):
    """A timeout, a network error or a 5xx: YClients may or may not have done what was asked."""


# --- the rate limiter ----------------------------------------------------------------------------

_SLIDING_WINDOWS = """
-- KEYS: the second window, the minute window (ZSETs of request times in ms, Redis' own clock, so every
-- process agrees). ARGV: per-second limit, per-minute limit, second span ms, minute span ms, a unique member.
-- Returns 0 when a slot was taken, else the ms until one frees (nothing is recorded then).
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local limits = {tonumber(ARGV[1]), tonumber(ARGV[2])}
local spans = {tonumber(ARGV[3]), tonumber(ARGV[4])}
local wait = 0
for i = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - spans[i])
  local used = redis.call('ZCARD', KEYS[i])
  if used >= limits[i] then
    local oldest = redis.call('ZRANGE', KEYS[i], used - limits[i], used - limits[i], 'WITHSCORES')
    local frees = tonumber(oldest[2]) + spans[i] - now
    if frees > wait then wait = frees end
  end
end
if wait > 0 then return wait end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[i], spans[i] + 1000)
end
return 0
"""


class _LocalWindows:
    """The same sliding windows in this process only: the fallback while Redis can't be reached."""

    def __init__(self, limits: tuple[int, int], spans_ms: tuple[int, int]) -> None:
        self._limits = limits
        self._spans = tuple(span / 1000 for span in spans_ms)
        self._hits: tuple[deque[float], deque[float]] = (deque(), deque())
        self._lock = threading.Lock()

    def try_acquire(self) -> float:
        """0 when a slot was taken, else seconds until one frees."""
        with self._lock:
            now = time.monotonic()
            wait = 0.0
            for hits, limit, span in zip(self._hits, self._limits, self._spans, strict=True):
                while hits and hits[0] <= now - span:
                    hits.popleft()
                if len(hits) >= limit:
                    wait = max(wait, hits[len(hits) - limit] + span - now)
            if wait > 0:
                return wait
            for hits in self._hits:
                hits.append(now)
            return 0.0


class RateLimiter:
    """At most ``per_second``/``per_minute`` requests for the company, counted by all processes together."""

    def __init__(
        self,
        redis_client: redis.Redis | None,
        company_id: str,
        *,
        per_second: int = RATE_PER_SECOND,
        per_minute: int = RATE_PER_MINUTE,
        max_wait_seconds: float = 10.0,
        owns_redis: bool = False,
    ) -> None:
        self._redis = redis_client
        self._owns_redis = owns_redis
        self._keys = [redis_keys.yclients_rate(company_id, "second"), redis_keys.yclients_rate(company_id, "minute")]
        self._args = [per_second, per_minute, SECOND_WINDOW_MS, MINUTE_WINDOW_MS]
        self._script = redis_client.register_script(_SLIDING_WINDOWS) if redis_client is not None else None
        self._local = _LocalWindows((per_second, per_minute), (SECOND_WINDOW_MS, MINUTE_WINDOW_MS))
        self._redis_down_until = 0.0
        self._max_wait = max_wait_seconds

    def acquire(self, what: str) -> None:
        """Take a slot, sleeping while there is none; ``BackendUnavailable`` rather than overrun the turn.

        Outside a turn (no deadline) the wait is bounded by ``max_wait_seconds``.
        """
        waited = 0.0
        while True:
            wait = self._try_acquire()
            if wait <= 0:
                return
            left = remaining()
            budget = left - MIN_CALL_SECONDS if left is not None else self._max_wait - waited
            if wait > budget:
                raise BackendUnavailable(
                    f"rate limit: no YClients request slot for {what} within {max(budget, 0):.1f}s"
                    f" (at most {self._args[0]}/s and {self._args[1]}/min)"
                )
            time.sleep(wait)
            waited += wait

    def _try_acquire(self) -> float:
        if self._script is not None and time.monotonic() >= self._redis_down_until:
            try:
                waited_ms = self._script(keys=self._keys, args=[*self._args, uuid.uuid4().hex])
                return int(waited_ms) / 1000
            except redis.RedisError as error:
                # Counting alone is better than not calling YClients at all: the limit is a courtesy, not safety.
                self._redis_down_until = time.monotonic() + REDIS_RETRY_AFTER_SECONDS
                log.warning("yclients rate limiter: Redis unavailable, counting in this process", error=str(error))
        return self._local.try_acquire()

    def close(self) -> None:
        if self._owns_redis and self._redis is not None:
            self._redis.close()


# --- the client ----------------------------------------------------------------------------------


class YClientsClient:
    """One ``httpx.Client`` (connection pool) per process; thread-safe like httpx itself."""

    def __init__(
        self,
        base_url: str,
        partner_token: str,
        user_token: str,
        *,
        limiter: RateLimiter,
        timeout_seconds: float = 10.0,
    ) -> None:
        self._secrets = tuple(token for token in (partner_token, user_token) if token)
        self._timeout = timeout_seconds
        self._limiter = limiter
        authorization = f"Bearer {partner_token}" + (f", User {user_token}" if user_token else "")
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={"Accept": ACCEPT, "Content-Type": "application/json", "Authorization": authorization},
            timeout=timeout_seconds,
            follow_redirects=False,
            verify=tls_context(),
        )

    def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, missing: type[BookingRefused] = BookingRefused
    ) -> Reply:
        return self.request("GET", path, params=params, missing=missing)

    def post(self, path: str, body: Mapping[str, Any]) -> Reply:
        return self.request("POST", path, body=body)

    def put(self, path: str, body: Mapping[str, Any], *, missing: type[BookingRefused] = BookingRefused) -> Reply:
        return self.request("PUT", path, body=body, missing=missing)

    def delete(self, path: str, *, missing: type[BookingRefused] = BookingRefused) -> Reply:
        return self.request("DELETE", path, missing=missing)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        missing: type[BookingRefused] = BookingRefused,
    ) -> Reply:
        """One call with retries; ``missing`` is what a 404 raises (``BookingNotFound`` where a record is meant)."""
        reads = method == "GET"

        def retryable(error: BaseException) -> bool:
            return isinstance(error, RateLimited) or (reads and isinstance(error, Unreachable))

        retrying = Retrying(
            retry=retry_if_exception(retryable),
            wait=_backoff,
            stop=_give_up,
            before_sleep=_log_retry,
            reraise=True,
        )
        return retrying(self._once, method, path, params, body, missing)

    def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        missing: type[BookingRefused],
    ) -> Reply:
        what = f"YClients {method} {path}"
        # Checked before the limiter too, so a turn that is out of time spends no request slot.
        call_timeout(self._timeout, what, BackendUnavailable)
        self._limiter.acquire(what)
        timeout = call_timeout(self._timeout, what, BackendUnavailable)
        started = time.monotonic()
        endpoint = metric_endpoint(method, path)
        try:
            response = self._http.request(method, path, params=params, json=body, timeout=timeout)
        except httpx.TimeoutException as error:
            _measure(endpoint, "timeout", started)
            log.warning("yclients timeout", method=method, path=path, timeout=round(timeout, 2))
            raise Unreachable(f"{what} timed out after {timeout:.1f}s") from error
        except httpx.TransportError as error:
            _measure(endpoint, "network_error", started)
            detail = self._scrub(f"{type(error).__name__}: {error}")
            log.warning("yclients network error", method=method, path=path, error=detail)
            raise Unreachable(f"{what} failed: {detail}") from error
        _measure(endpoint, str(response.status_code), started)
        elapsed_ms = round((time.monotonic() - started) * 1000)
        log.debug("yclients request", method=method, path=path, status=response.status_code, ms=elapsed_ms)
        return self._reply(response, what, missing)

    def _reply(self, response: httpx.Response, what: str, missing: type[BookingRefused]) -> Reply:
        status = response.status_code
        payload = _json(response)
        if 200 <= status < 300:
            return self._success(status, payload, response, what)
        message, code = _error_details(payload)
        message = self._scrub(message)
        # A refusal (taken time, a record that is gone) is an ordinary answer; trouble with us or them is not.
        level = log.warning if status in (401, 403, 429) or status >= 500 else log.info
        level("yclients error", request=what, status=status, code=code, message=message)
        if status == 429:
            raise RateLimited(f"{what}: YClients rate limit (429): {message}", _retry_after(response))
        if status >= 500:
            raise Unreachable(f"{what}: YClients answered {status}: {message}")
        if SLOT_TAKEN_CODE in (code, status):
            raise SlotTaken(message or "the time is taken or outside working hours", code=SLOT_TAKEN_CODE)
        if status in (401, 403) and code is None:
            raise BookingRefused(
                f"YClients refused our credentials (HTTP {status}: {message}); check YCLIENTS_PARTNER_TOKEN and"
                " YCLIENTS_USER_TOKEN and that the user has access to the company"
            )
        if status == 404:
            raise missing(f"{what}: not found ({message})", code=code)
        if 300 <= status < 400:
            raise BookingRefused(f"{what}: YClients redirected ({status}); check YCLIENTS_API_URL")
        raise BookingRefused(message or f"{what}: YClients answered {status}", code=code)

    def _success(self, status: int, payload: Any, response: httpx.Response, what: str) -> Reply:
        if status == 204 or not response.content.strip():
            return Reply(status, None, None)
        if not isinstance(payload, dict):
            raise Unreachable(f"{what}: YClients answered {status} with a body that is not its JSON envelope")
        if payload.get("success") is False:
            # YClients sometimes refuses inside a 200; treat it as the refusal it is.
            message, code = _error_details(payload)
            if code == SLOT_TAKEN_CODE:
                raise SlotTaken(self._scrub(message), code=code)
            raise BookingRefused(self._scrub(message) or f"{what}: YClients answered success: false", code=code)
        return Reply(status, payload.get("data"), payload.get("meta"))

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def close(self) -> None:
        self._http.close()
        self._limiter.close()


# --- helpers -------------------------------------------------------------------------------------


def metric_endpoint(method: str, path: str) -> str:
    """``PUT record``: the method and the path's first segment, without the company's and records' ids,
    so the metric has one series per kind of call, not one per booking."""
    return f"{method} {path.strip('/').split('/', 1)[0]}"


def _measure(endpoint: str, status: str, started: float) -> None:
    BACKEND_CALLS.labels("yclients", endpoint, status).inc()
    BACKEND_CALL_SECONDS.labels("yclients", endpoint).observe(time.monotonic() - started)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_details(payload: Any) -> tuple[str, int | None]:
    """(message, code) from ``meta.message`` and/or ``errors.code``/``errors.message``, wherever they are."""
    if not isinstance(payload, dict):
        return "", None
    messages: list[str] = []
    code: int | None = None
    errors = payload.get("errors")
    for errors_item in errors if isinstance(errors, list) else [errors]:
        if isinstance(errors_item, dict):
            code = code if code is not None else _code(errors_item.get("code"))
            if errors_item.get("message"):
                messages.append(str(errors_item["message"]))
    meta = payload.get("meta")
    if isinstance(meta, dict) and meta.get("message"):
        messages.insert(0, str(meta["message"]))
    if code is None:
        code = _code(payload.get("code"))
    unique = list(dict.fromkeys(message.strip() for message in messages if message.strip()))
    return "; ".join(unique), code


def _code(value: object) -> int | None:
    try:
        code = int(value) if isinstance(value, int | str) and not isinstance(value, bool) else None
    except ValueError:
        return None
    return code if code is not None and code > 0 else None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


def _backoff(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome is not None else None
    if isinstance(error, RateLimited) and error.retry_after is not None:
        return error.retry_after
    exponential = min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2.0 ** (state.attempt_number - 1))
    # Jitter, so the api and the workers, limited together, don't all come back in the same instant.
    return exponential * random.uniform(0.75, 1.25)


def _give_up(state: RetryCallState) -> bool:
    error = state.outcome.exception() if state.outcome is not None else None
    attempts = RATE_LIMITED_ATTEMPTS if isinstance(error, RateLimited) else READ_ATTEMPTS
    if state.attempt_number >= attempts or state.upcoming_sleep > RETRY_AFTER_MAX_SECONDS:
        return True
    left = remaining()
    return left is not None and left - state.upcoming_sleep < MIN_CALL_SECONDS


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    log.warning("yclients retry", attempt=state.attempt_number, wait=round(state.upcoming_sleep, 2), error=str(error))
