"""Alerts for the salon's operator: what condition holds, when it began, and when it cleared.

The api's monitor (``services/api/monitor.py``) observes; this module decides and delivers:

- ``step`` turns one observation of one condition into the condition's next state and, at most, one
  alert. A condition may have to hold for a grace period first (a disconnect that lasts seconds is the
  gateway's business, not the operator's). A ``firing`` alert is sent at most once per condition per
  ``ALERT_REPEAT_MINUTES``: a condition that flaps within that window is not announced again, and the
  ``resolved`` alert answers only a ``firing`` alert that was sent. A firing condition is not repeated
  while it lasts, except ``failed_jobs`` when more jobs fail (then at most once per window as well).
- ``AlertStore`` keeps each condition's state and each channel's undelivered alerts in Redis, so an api
  restart neither repeats an alert nor forgets to resolve one, and a receiver that is down gets its
  alerts on a later check.
- ``WebhookChannel`` and ``TelegramChannel`` deliver one alert with the api's ``httpx.AsyncClient``.

The worker records AI fallbacks here too (``record_ai_fallback``); the monitor counts them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

import httpx
import redis
from pydantic import SecretStr

from shared import redis_keys
from shared.logging import get_logger
from shared.wire import Alert

log = get_logger(__name__)

DELIVERY_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
"""One receiver's answer; a check waits at most this long per channel, without blocking the event loop."""
OUTBOX_KEPT = 100
"""Undelivered alerts kept per channel; beyond that the oldest go (a receiver down for days)."""


class Condition(StrEnum):
    SESSION_REPLACED = "session_replaced"
    SESSION_LOGGED_OUT = "session_logged_out"
    SESSION_BANNED = "session_banned"
    SESSION_OUTDATED = "session_outdated"
    SESSION_DISCONNECTED = "session_disconnected"
    GATEWAY_UNREACHABLE = "gateway_unreachable"
    JOURNAL_BACKLOG = "journal_backlog"
    FAILED_JOBS = "failed_jobs"
    AI_FALLBACKS = "ai_fallbacks"


TITLES: Mapping[Condition, str] = {
    Condition.SESSION_REPLACED: "WhatsApp session replaced",
    Condition.SESSION_LOGGED_OUT: "WhatsApp logged out",
    Condition.SESSION_BANNED: "WhatsApp number banned",
    Condition.SESSION_OUTDATED: "WhatsApp client outdated",
    Condition.SESSION_DISCONNECTED: "WhatsApp disconnected",
    Condition.GATEWAY_UNREACHABLE: "wa-gateway not answering",
    Condition.JOURNAL_BACKLOG: "Incoming messages delayed",
    Condition.FAILED_JOBS: "Messages failed to process",
    Condition.AI_FALLBACKS: "AI keeps falling back",
}

RESOLVED_MESSAGES: Mapping[Condition, str] = {
    Condition.SESSION_REPLACED: "WhatsApp is connected again; the receptionist is answering clients.",
    Condition.SESSION_LOGGED_OUT: "WhatsApp is connected again; the receptionist is answering clients.",
    Condition.SESSION_BANNED: "WhatsApp is connected again; the receptionist is answering clients.",
    Condition.SESSION_OUTDATED: "WhatsApp is connected again; the receptionist is answering clients.",
    Condition.SESSION_DISCONNECTED: "WhatsApp is connected again; the receptionist is answering clients.",
    Condition.GATEWAY_UNREACHABLE: "wa-gateway answers again.",
    Condition.JOURNAL_BACKLOG: "Incoming messages are reaching the receptionist again without delay.",
    Condition.FAILED_JOBS: "No failed message jobs are left in the failed registry.",
    Condition.AI_FALLBACKS: "The AI has stopped falling back to the built-in answers.",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """A condition that holds right now, in the operator's words."""

    message: str
    measure: int = 0
    """How bad, where "worse" deserves another alert (the number of failed jobs); 0 for the rest."""
    details: dict[str, str | int | float | bool | None] = field(default_factory=dict)


@dataclass(slots=True)
class AlertState:
    """One condition's memory between checks; stored as JSON in ``ai-admin:alerts:state:<company>``."""

    observed_since: float | None = None
    """First check that saw the condition in its current spell (unix seconds); None while it doesn't hold."""
    firing: bool = False
    """It held for its grace period: a firing alert was decided, sent or held back."""
    notified: bool = False
    """The firing alert of this spell was sent (queued for the receivers), so its end is announced too."""
    started_at: float | None = None
    last_notified_at: float | None = None
    """When a firing alert for this condition was last sent, in any spell: the repeat window counts from it."""
    measure: int = 0
    message: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: bytes | str) -> AlertState:
        data = json.loads(raw)
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def step(
    company_id: str,
    condition: Condition,
    state: AlertState,
    finding: Finding | None,
    now: float,
    *,
    grace_seconds: float,
    repeat_seconds: float,
) -> tuple[AlertState, Alert | None]:
    """The condition's next state after one check that found it holding (``finding``) or not (None)."""
    current = replace(state)
    if finding is None:
        alert = None
        if state.firing and state.notified:
            alert = Alert(
                company_id=company_id,
                condition=condition,
                status="resolved",
                title=TITLES[condition],
                message=RESOLVED_MESSAGES[condition],
                started_at=_utc(state.started_at if state.started_at is not None else now),
                resolved_at=_utc(now),
                timestamp=_utc(now),
            )
        elif state.firing:
            log.info("Alert condition cleared while held back; nothing to resolve", condition=condition)
        current.observed_since, current.firing, current.notified, current.measure = None, False, False, 0
        return current, alert

    if current.observed_since is None:
        current.observed_since = now
    if not current.firing:
        if now - current.observed_since < grace_seconds:
            return current, None
        current.firing, current.notified, current.started_at = True, False, current.observed_since
    may_send = current.last_notified_at is None or now - current.last_notified_at >= repeat_seconds
    worse = current.notified and finding.measure > current.measure
    if not may_send or (current.notified and not worse):
        if not state.firing and not current.notified:
            log.info("Alert held back: sent less than ALERT_REPEAT_MINUTES ago", condition=condition)
        return current, None
    current.notified, current.last_notified_at = True, now
    current.measure, current.message = finding.measure, finding.message
    assert current.started_at is not None
    return current, Alert(
        company_id=company_id,
        condition=condition,
        status="firing",
        title=TITLES[condition],
        message=finding.message,
        started_at=_utc(current.started_at),
        timestamp=_utc(now),
        details=finding.details,
    )


# --- where the state lives -----------------------------------------------------------------------


class AlertStore:
    """Sync Redis (the api runs it on its Redis pool): conditions' states, the checks counter, each outbox."""

    def __init__(self, client: redis.Redis, company_id: str) -> None:
        self._redis = client
        self.company_id = company_id
        self._state_key = redis_keys.alert_state(company_id)

    def load(self) -> dict[Condition, AlertState]:
        raw: dict[bytes, bytes] = self._redis.hgetall(self._state_key)  # type: ignore[assignment]
        states: dict[Condition, AlertState] = {}
        for name, value in raw.items():
            try:
                states[Condition(name.decode())] = AlertState.from_json(value)
            except (ValueError, TypeError):
                continue  # a condition this version no longer knows, or a corrupt entry: start it afresh
        return states

    def save(
        self, states: Mapping[Condition, AlertState], alerts: Sequence[Alert], channels: Sequence[str], now: float
    ) -> int:
        """States and new alerts in one transaction, so a crash can't send an alert its state doesn't know of.

        Returns the number of checks so far.
        """
        with self._redis.pipeline(transaction=True) as pipe:
            if states:
                pipe.hset(self._state_key, mapping={name: state.to_json() for name, state in states.items()})
            for channel in channels:
                if not alerts:
                    break
                key = redis_keys.alert_outbox(self.company_id, channel)
                pipe.rpush(key, *(alert.to_json() for alert in alerts))
                pipe.ltrim(key, -OUTBOX_KEPT, -1)
                pipe.expire(key, redis_keys.ALERT_OUTBOX_TTL_SECONDS)
            checks_key = redis_keys.alert_checks(self.company_id)
            pipe.hincrby(checks_key, "checks", 1)
            pipe.hset(checks_key, "checkedAt", str(now))
            results = pipe.execute()
        return int(results[-2])

    def oldest(self, channel: str) -> bytes | None:
        raw: bytes | None = self._redis.lindex(redis_keys.alert_outbox(self.company_id, channel), 0)  # type: ignore[assignment]
        return raw

    def delivered(self, channel: str, raw: bytes) -> None:
        self._redis.lrem(redis_keys.alert_outbox(self.company_id, channel), 1, raw)  # type: ignore[arg-type]


# --- where alerts go -----------------------------------------------------------------------------


class AlertNotDelivered(Exception):
    """The receiver did not take the alert; it stays in the outbox for the next check."""


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    async def deliver(self, http: httpx.AsyncClient, alert: Alert) -> None:
        """Return once the receiver accepted ``alert``; raise AlertNotDelivered otherwise."""


@dataclass(frozen=True)
class WebhookChannel:
    """``POST ALERT_WEBHOOK_URL`` with the alert's JSON; any 2xx is accepted."""

    url: SecretStr
    """Often a bearer credential itself (Slack, Discord): never logged, and neither is an error that quotes it."""
    name: str = "webhook"

    async def deliver(self, http: httpx.AsyncClient, alert: Alert) -> None:
        try:
            response = await http.post(self.url.get_secret_value(), json=alert.to_wire(), timeout=DELIVERY_TIMEOUT)
        except httpx.HTTPError as error:
            raise AlertNotDelivered(type(error).__name__) from None
        if not response.is_success:
            raise AlertNotDelivered(f"the receiver answered {response.status_code}")


TELEGRAM_TEXT_LIMIT = 4096


@dataclass(frozen=True)
class TelegramChannel:
    """The Bot API's ``sendMessage``: ``POST <api>/bot<token>/sendMessage {chat_id, text}``, answered ``{ok: true}``."""

    api_url: str
    token: SecretStr
    chat_id: str
    name: str = "telegram"

    async def deliver(self, http: httpx.AsyncClient, alert: Alert) -> None:
        url = f"{self.api_url.rstrip('/')}/bot{self.token.get_secret_value()}/sendMessage"
        body = {"chat_id": self.chat_id, "text": telegram_text(alert)}
        try:
            response = await http.post(url, json=body, timeout=DELIVERY_TIMEOUT)
        except httpx.HTTPError as error:
            raise AlertNotDelivered(type(error).__name__) from None  # its text would quote the URL, token and all
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code != 200 or not isinstance(answer, dict) or answer.get("ok") is not True:
            description = answer.get("description") if isinstance(answer, dict) else None
            raise AlertNotDelivered(f"Telegram answered {response.status_code}: {description or 'no description'}")


def telegram_text(alert: Alert) -> str:
    """The alert as a short chat message; plain text, so nothing in it can break Telegram's markup parser."""
    if alert.status == "firing":
        lines = [f"🔴 {alert.title} (company {alert.company_id})", alert.message]
        lines.append(f"Since {alert.started_at:%Y-%m-%d %H:%M} UTC")
    else:
        ended = alert.resolved_at or alert.timestamp
        minutes = max(1, round((ended - alert.started_at).total_seconds() / 60))
        lines = [f"✅ Resolved: {alert.title} (company {alert.company_id})", alert.message]
        lines.append(f"It lasted about {minutes} min, since {alert.started_at:%Y-%m-%d %H:%M} UTC")
    return "\n".join(lines)[:TELEGRAM_TEXT_LIMIT]


# --- AI fallbacks, recorded by the worker --------------------------------------------------------


def record_ai_fallback(client: redis.Redis, company_id: str, now: float | None = None) -> None:
    moment = time.time() if now is None else now
    key = redis_keys.ai_fallbacks(company_id)
    with client.pipeline(transaction=True) as pipe:
        pipe.zadd(key, {f"{moment:.6f}-{uuid.uuid4().hex[:8]}": moment})
        pipe.zremrangebyscore(key, "-inf", moment - redis_keys.AI_FALLBACKS_KEPT_SECONDS)
        pipe.expire(key, redis_keys.AI_FALLBACKS_KEPT_SECONDS)
        pipe.execute()


def count_ai_fallbacks(client: redis.Redis, company_id: str, since: float) -> int:
    return int(client.zcount(redis_keys.ai_fallbacks(company_id), since, "+inf"))


def ai_fallback_recorder(client: redis.Redis, company_id: str) -> Callable[[str], None]:
    """What the receptionist calls when a turn falls back from the LLM; a Redis failure never fails the turn."""

    def record(reason: str) -> None:
        try:
            record_ai_fallback(client, company_id)
        except redis.RedisError as error:
            log.warning("Could not count an AI fallback for alerts", error=str(error), reason=reason)

    return record
