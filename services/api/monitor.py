"""The api's alert monitor: every ALERT_CHECK_INTERVAL_SECONDS, look at what can go wrong and tell the operator.

It only looks. The session owner's ``GET /health`` is passive (it never touches the connection), the
failed-job registry and the AI-fallback count are read from Redis; nothing here reconnects or retries
anything. Deciding what to say and remembering what was said is ``shared/alerts.py``; one api instance
does it at a time (``ai-admin:alerts:lock:<company>``), so two apis don't alert twice.

Conditions, and when each fires:

- the session is ``replaced``, ``logged_out``, ``banned`` or ``outdated``: at the first check that sees it
  (only an operator brings it back);
- the session is not connected for another reason (disconnected, connecting, waiting for a QR scan,
  standby with no owner...) for ALERT_DISCONNECTED_MINUTES;
- the session owner's ``/health`` does not answer for ALERT_DISCONNECTED_MINUTES;
- the oldest message in the gateway's journal has waited ALERT_BACKLOG_MINUTES for the api;
- the company's queue has jobs in RQ's failed registry;
- ALERT_AI_FALLBACKS turns within ALERT_AI_FALLBACK_MINUTES were answered by the embedded provider
  because the LLM failed or was not believed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import ValidationError

from services.api.deps import ApiState
from services.api.gateway_proxy import session_owner_url
from services.api.settings import ApiSettings
from shared import redis_keys
from shared.alerts import (
    AlertNotDelivered,
    AlertState,
    AlertStore,
    Channel,
    Condition,
    Finding,
    TelegramChannel,
    WebhookChannel,
    count_ai_fallbacks,
    step,
)
from shared.locks import RedisLock
from shared.logging import get_logger
from shared.tasks import cancel_and_wait
from shared.wire import GATEWAY_HEALTH_PATH, Alert, SessionStatus

log = get_logger(__name__)

HEALTH_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
DELIVERIES_PER_CHECK = 20
"""Alerts sent to one channel in one check; the rest wait for the next (a long-broken receiver's backlog)."""
MIN_LOCK_TTL_SECONDS = 60.0

NEEDS_OPERATOR_CONDITIONS: dict[str, Condition] = {
    SessionStatus.REPLACED: Condition.SESSION_REPLACED,
    SessionStatus.LOGGED_OUT: Condition.SESSION_LOGGED_OUT,
    SessionStatus.BANNED: Condition.SESSION_BANNED,
    SessionStatus.OUTDATED: Condition.SESSION_OUTDATED,
}

STATUS_MESSAGES: dict[Condition, str] = {
    Condition.SESSION_REPLACED: (
        "Another device or program opened this WhatsApp session (connection replaced), so the receptionist"
        " stopped and is not answering clients. Close the other WhatsApp Web or second server, then reconnect"
        " (POST /reconnect on wa-gateway) or restart wa-gateway."
    ),
    Condition.SESSION_LOGGED_OUT: (
        "The salon's phone unlinked this device (logged out), so the receptionist is not answering clients."
        " Pair the phone again (QR or pairing code, see docs/operations.md)."
    ),
    Condition.SESSION_BANNED: (
        "WhatsApp banned the salon's number for a while, so the receptionist is not answering clients."
        " Wait for the ban to end, then reconnect; keep an eye on how many messages the number sends."
    ),
    Condition.SESSION_OUTDATED: (
        "WhatsApp rejected our client as outdated, so the receptionist is not answering clients."
        " Upgrade neonize and restart wa-gateway."
    ),
}


def channels(settings: ApiSettings) -> list[Channel]:
    found: list[Channel] = []
    if settings.alert_webhook_url.get_secret_value():
        found.append(WebhookChannel(settings.alert_webhook_url))
    if settings.telegram_bot_token.get_secret_value() and settings.telegram_chat_id:
        found.append(TelegramChannel(settings.telegram_api_url, settings.telegram_bot_token, settings.telegram_chat_id))
    return found


class AlertMonitor:
    def __init__(self, state: ApiState, clock: Callable[[], float] = time.time) -> None:
        self.state = state
        self.settings = state.settings
        self.company_id = state.settings.company_id
        self.clock = clock
        self.channels = channels(state.settings)
        self.store = AlertStore(state.redis, self.company_id)
        lock_ttl = max(MIN_LOCK_TTL_SECONDS, 3 * self.settings.alert_check_interval_seconds)
        self._lock = RedisLock(
            state.redis, redis_keys.alert_lock(self.company_id), uuid.uuid4().hex, int(lock_ttl * 1000)
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        log.info(
            "Alert monitor started",
            channels=[channel.name for channel in self.channels],
            interval_seconds=self.settings.alert_check_interval_seconds,
        )
        self._task = asyncio.create_task(self._run(), name="alert-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        with contextlib.suppress(Exception):  # Redis gone: the lock expires by itself
            await self.state.redis_pool.run(self._lock.release)

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis down, a bug: the api goes on serving, the next check tries again
                log.warning("Alert check failed", error=f"{type(error).__name__}: {error}")
            await asyncio.sleep(self.settings.alert_check_interval_seconds)

    async def check(self) -> list[Alert]:
        """One check: observe, decide, remember, deliver. Returns the alerts decided in this check."""
        pool = self.state.redis_pool
        if not await pool.run(self._lock.acquire):
            return []  # another api instance checks and sends
        now = self.clock()
        findings = await self.observe(now)
        states = await pool.run(self.store.load)
        alerts: list[Alert] = []
        for condition, finding in findings.items():
            states[condition], alert = step(
                self.company_id,
                condition,
                states.get(condition, AlertState()),
                finding,
                now,
                grace_seconds=self._grace(condition),
                repeat_seconds=self.settings.alert_repeat_minutes * 60,
            )
            if alert is not None:
                alerts.append(alert)
        changed = {condition: states[condition] for condition in findings}
        await pool.run(self.store.save, changed, alerts, [channel.name for channel in self.channels], now)
        for alert in alerts:
            (log.warning if alert.status == "firing" else log.info)(
                "Alert", condition=alert.condition, alert_status=alert.status, message=alert.message
            )
        await self.deliver()
        return alerts

    def _grace(self, condition: Condition) -> float:
        if condition in (Condition.SESSION_DISCONNECTED, Condition.GATEWAY_UNREACHABLE):
            return self.settings.alert_disconnected_minutes * 60
        return 0.0

    # --- what holds now; a condition left out is unknown this time and keeps its state ---

    async def observe(self, now: float) -> dict[Condition, Finding | None]:
        findings = await self._session()
        pool = self.state.redis_pool
        failed = await pool.run(lambda: self.state.queue.failed_job_registry.count)
        findings[Condition.FAILED_JOBS] = (
            Finding(
                f"{failed} message job(s) failed for good, so some clients may not have had an answer."
                " Look at them with `rq info` and the worker's log, then requeue or delete them"
                " (docs/operations.md#alerts).",
                measure=failed,
                details={"failedJobs": failed},
            )
            if failed
            else None
        )
        window = self.settings.alert_ai_fallback_minutes
        fallbacks = await pool.run(count_ai_fallbacks, self.state.redis, self.company_id, now - window * 60)
        findings[Condition.AI_FALLBACKS] = (
            Finding(
                f"The AI model failed or was not believed {fallbacks} times in the last {window:g} minutes;"
                " clients got the built-in answers instead. Check the AI provider's key, balance and status,"
                " and the worker's log ('AI provider failed').",
                details={"fallbacks": fallbacks, "windowMinutes": window},
            )
            if fallbacks >= self.settings.alert_ai_fallbacks
            else None
        )
        return findings

    async def _session(self) -> dict[Condition, Finding | None]:
        try:
            url = await session_owner_url(self.state, self.company_id)
        except (ValidationError, ValueError):  # a lease this version can't read: ask the configured gateway
            url = self.settings.gateway_url
        health = await self._health(url)
        if health is None:
            minutes = self.settings.alert_disconnected_minutes
            # Whether WhatsApp is connected, and the journal, are unknown meanwhile: those conditions keep their state.
            return {
                Condition.GATEWAY_UNREACHABLE: Finding(
                    f"wa-gateway has not answered at {url} for {minutes:g} minutes, so messages are neither"
                    " received nor sent. Check it with `make status` and its log; supervisord restarts it.",
                    details={"url": url},
                )
            }
        status = str(health.get("status"))
        reason = health.get("reason")
        details: dict[str, str | int | float | bool | None] = {"status": status, "reason": _text(reason)}
        findings: dict[Condition, Finding | None] = {Condition.GATEWAY_UNREACHABLE: None}
        for needs_operator, condition in NEEDS_OPERATOR_CONDITIONS.items():
            findings[condition] = (
                Finding(STATUS_MESSAGES[condition], details=details) if status == needs_operator else None
            )
        disconnected = health.get("connected") is not True and status not in NEEDS_OPERATOR_CONDITIONS
        minutes = self.settings.alert_disconnected_minutes
        findings[Condition.SESSION_DISCONNECTED] = (
            Finding(
                f"WhatsApp has not been connected for {minutes:g} minutes (status: {status}"
                f"{f', {reason}' if reason else ''}), so the receptionist is not answering clients."
                " wa-gateway keeps retrying; if it does not recover, see docs/operations.md.",
                details=details,
            )
            if disconnected
            else None
        )
        journal = health.get("journal")
        age = journal.get("oldestAgeSeconds") if isinstance(journal, dict) else None
        limit = self.settings.alert_backlog_minutes
        if isinstance(age, int | float):
            backlog = journal.get("backlog") if isinstance(journal, dict) else None
            findings[Condition.JOURNAL_BACKLOG] = (
                Finding(
                    f"{backlog} incoming message(s) have waited more than {limit:g} minutes to reach the"
                    f" receptionist (the oldest for {age / 60:.0f} minutes): the api is not accepting them."
                    " Check the api's log and `make status`.",
                    details={"backlog": _number(backlog), "oldestAgeSeconds": round(age, 1)},
                )
                if age >= limit * 60
                else None
            )
        elif isinstance(journal, dict):
            findings[Condition.JOURNAL_BACKLOG] = None  # an empty journal has no oldest entry
        return findings

    async def _health(self, url: str) -> dict[str, Any] | None:
        try:
            response = await self.state.http.get(f"{url}{GATEWAY_HEALTH_PATH}", timeout=HEALTH_TIMEOUT)
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            log.info("Alert check: wa-gateway did not answer /health", url=url, error=type(error).__name__)
            return None
        if not isinstance(body, dict) or "status" not in body:
            log.info("Alert check: wa-gateway's /health has no session status", url=url, status=response.status_code)
            return None
        return body

    # --- delivery ---

    async def deliver(self) -> None:
        """Each channel's outbox, oldest first; a channel stops at its first failure and retries next check."""
        pool = self.state.redis_pool
        for channel in self.channels:
            for _ in range(DELIVERIES_PER_CHECK):
                raw = await pool.run(self.store.oldest, channel.name)
                if raw is None:
                    break
                try:
                    alert = Alert.model_validate_json(raw)
                except ValidationError:
                    log.error("Dropping an unreadable alert from the outbox", channel=channel.name)
                    await pool.run(self.store.delivered, channel.name, raw)
                    continue
                try:
                    await channel.deliver(self.state.http, alert)
                except AlertNotDelivered as error:
                    log.warning(
                        "Failed to send alert; retrying at the next check",
                        channel=channel.name,
                        condition=alert.condition,
                        alert_status=alert.status,
                        error=str(error),
                    )
                    break
                await pool.run(self.store.delivered, channel.name, raw)
                log.info("Alert sent", channel=channel.name, condition=alert.condition, alert_status=alert.status)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _number(value: object) -> int | None:
    return value if isinstance(value, int) else None
