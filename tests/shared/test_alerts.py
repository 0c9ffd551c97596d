"""Alert decisions with an injected clock, the Redis store, and delivery to local receivers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
import redis
from pydantic import SecretStr

from services.api.settings import ApiSettings
from shared.alerts import (
    AlertNotDelivered,
    AlertState,
    AlertStore,
    Condition,
    Finding,
    TelegramChannel,
    WebhookChannel,
    ai_fallback_recorder,
    count_ai_fallbacks,
    record_ai_fallback,
    step,
    telegram_text,
)
from shared.config import load_settings
from shared.errors import ConfigurationError
from shared.wire import Alert
from tests.support.fakes.alert_receivers import TelegramBotApi, WebhookReceiver

COMPANY = "962302"
MINUTE = 60.0
REPEAT = 15 * MINUTE
T0 = 1_800_000_000.0
REPLACED = Finding("Another device opened this WhatsApp session.")


class Timeline:
    """One condition checked at the given moments; collects the alerts decided."""

    def __init__(self, condition: Condition, grace_seconds: float = 0.0, repeat_seconds: float = REPEAT) -> None:
        self.condition = condition
        self.grace = grace_seconds
        self.repeat = repeat_seconds
        self.state = AlertState()
        self.alerts: list[Alert] = []

    def check(self, at: float, finding: Finding | None) -> Alert | None:
        # Through JSON every time, as the monitor keeps it in Redis between checks.
        restored = AlertState.from_json(self.state.to_json())
        self.state, alert = step(
            COMPANY, self.condition, restored, finding, at, grace_seconds=self.grace, repeat_seconds=self.repeat
        )
        if alert is not None:
            self.alerts.append(alert)
        return alert

    def statuses(self) -> list[str]:
        return [alert.status for alert in self.alerts]


def test_a_condition_alerts_once_while_it_lasts_and_resolves_once() -> None:
    timeline = Timeline(Condition.SESSION_REPLACED)
    fired = timeline.check(T0, REPLACED)
    for minute in range(1, 60):
        timeline.check(T0 + minute * MINUTE, REPLACED)
    resolved = timeline.check(T0 + 60 * MINUTE, None)
    timeline.check(T0 + 61 * MINUTE, None)

    assert timeline.statuses() == ["firing", "resolved"]
    assert fired is not None and resolved is not None
    assert fired.to_wire()["companyId"] == COMPANY
    assert fired.condition == "session_replaced"
    assert fired.message == REPLACED.message
    assert fired.started_at.timestamp() == T0 == resolved.started_at.timestamp()
    assert resolved.resolved_at is not None and resolved.resolved_at.timestamp() == T0 + 60 * MINUTE
    assert "connected again" in resolved.message


def test_a_condition_that_comes_back_within_the_repeat_window_is_not_announced_again() -> None:
    timeline = Timeline(Condition.SESSION_REPLACED)
    timeline.check(T0, REPLACED)
    timeline.check(T0 + 1 * MINUTE, None)
    # Back 2 minutes after the first alert: held back, and so is its end.
    assert timeline.check(T0 + 2 * MINUTE, REPLACED) is None
    assert timeline.check(T0 + 3 * MINUTE, None) is None
    assert timeline.check(T0 + 4 * MINUTE, REPLACED) is None
    assert timeline.check(T0 + 14 * MINUTE, REPLACED) is None
    # Still holding once 15 minutes have passed since the last alert: now it is sent, and resolved later.
    late = timeline.check(T0 + 15 * MINUTE, REPLACED)
    assert late is not None and late.status == "firing"
    assert late.started_at.timestamp() == T0 + 4 * MINUTE, "the spell that is still going began at minute 4"
    timeline.check(T0 + 16 * MINUTE, None)
    assert timeline.statuses() == ["firing", "resolved", "firing", "resolved"]


def test_the_repeat_window_is_a_setting() -> None:
    timeline = Timeline(Condition.SESSION_LOGGED_OUT, repeat_seconds=0)
    for minute in range(3):
        timeline.check(T0 + 2 * minute * MINUTE, Finding("logged out"))
        timeline.check(T0 + (2 * minute + 1) * MINUTE, None)
    assert timeline.statuses() == ["firing", "resolved"] * 3


def test_a_short_disconnect_is_not_an_alert_and_a_long_one_is() -> None:
    timeline = Timeline(Condition.SESSION_DISCONNECTED, grace_seconds=10 * MINUTE)
    down = Finding("not connected")
    timeline.check(T0, down)
    timeline.check(T0 + 9 * MINUTE, down)
    timeline.check(T0 + 9.5 * MINUTE, None)
    assert timeline.alerts == []

    timeline.check(T0 + 20 * MINUTE, down)
    assert timeline.check(T0 + 29 * MINUTE, down) is None
    fired = timeline.check(T0 + 30 * MINUTE, down)
    assert fired is not None and fired.started_at.timestamp() == T0 + 20 * MINUTE
    timeline.check(T0 + 31 * MINUTE, None)
    assert timeline.statuses() == ["firing", "resolved"]


def test_more_failed_jobs_are_announced_again_but_not_within_the_window() -> None:
    timeline = Timeline(Condition.FAILED_JOBS)
    timeline.check(T0, Finding("1 failed", measure=1))
    timeline.check(T0 + 1 * MINUTE, Finding("1 failed", measure=1))
    assert timeline.check(T0 + 5 * MINUTE, Finding("3 failed", measure=3)) is None
    worse = timeline.check(T0 + 15 * MINUTE, Finding("3 failed", measure=3))
    assert worse is not None and worse.message == "3 failed"
    assert timeline.check(T0 + 40 * MINUTE, Finding("3 failed", measure=3)) is None
    assert timeline.check(T0 + 41 * MINUTE, Finding("2 failed", measure=2)) is None
    timeline.check(T0 + 42 * MINUTE, None)
    assert timeline.statuses() == ["firing", "firing", "resolved"]


def test_the_store_keeps_states_and_queues_each_alert_once_per_channel(redis_client: redis.Redis) -> None:
    store = AlertStore(redis_client, COMPANY)
    state, alert = step(
        COMPANY, Condition.SESSION_BANNED, AlertState(), Finding("banned"), T0, grace_seconds=0, repeat_seconds=REPEAT
    )
    assert alert is not None
    assert store.save({Condition.SESSION_BANNED: state}, [alert], ["webhook", "telegram"], T0) == 1
    assert store.save({}, [], ["webhook", "telegram"], T0 + 30) == 2

    assert store.load() == {Condition.SESSION_BANNED: state}
    for channel in ("webhook", "telegram"):
        raw = store.oldest(channel)
        assert raw is not None and Alert.model_validate_json(raw) == alert
        store.delivered(channel, raw)
        assert store.oldest(channel) is None


def test_ai_fallbacks_are_counted_within_the_window(redis_client: redis.Redis) -> None:
    for minutes_ago in (30, 10, 5, 1):
        record_ai_fallback(redis_client, COMPANY, now=T0 - minutes_ago * MINUTE)
    assert count_ai_fallbacks(redis_client, COMPANY, since=T0 - 15 * MINUTE) == 3
    assert count_ai_fallbacks(redis_client, "other", since=T0 - 15 * MINUTE) == 0


def test_the_workers_recorder_never_fails_a_turn_when_redis_is_gone() -> None:
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    ai_fallback_recorder(dead, COMPANY)("provider timed out")  # logs, does not raise


# --- delivery to local receivers ---


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def telegram() -> Iterator[TelegramBotApi]:
    with TelegramBotApi() as bot:
        yield bot


def firing_alert() -> Alert:
    _, alert = step(
        COMPANY, Condition.SESSION_REPLACED, AlertState(), REPLACED, T0, grace_seconds=0, repeat_seconds=REPEAT
    )
    assert alert is not None
    return alert


async def deliver(channel: WebhookChannel | TelegramChannel, alert: Alert) -> None:
    async with httpx.AsyncClient() as http:
        await channel.deliver(http, alert)


def test_the_webhook_gets_the_alert_as_json(webhook: WebhookReceiver) -> None:
    alert = firing_alert()
    asyncio.run(deliver(WebhookChannel(SecretStr(webhook.url)), alert))
    [body] = webhook.received
    assert body["companyId"] == COMPANY
    assert body["condition"] == "session_replaced"
    assert body["status"] == "firing"
    assert body["message"] == REPLACED.message
    assert body["startedAt"].startswith("2027-01-15T08:00:00")
    assert {"title", "timestamp", "resolvedAt", "details"} <= set(body)


def test_a_refusing_or_absent_webhook_is_not_delivered(webhook: WebhookReceiver) -> None:
    webhook.status = 500
    with pytest.raises(AlertNotDelivered, match="500"):
        asyncio.run(deliver(WebhookChannel(SecretStr(webhook.url)), firing_alert()))
    with pytest.raises(AlertNotDelivered, match="ConnectError"):
        asyncio.run(deliver(WebhookChannel(SecretStr("http://127.0.0.1:1/alerts")), firing_alert()))


def test_telegram_gets_the_alert_as_a_chat_message(telegram: TelegramBotApi) -> None:
    channel = TelegramChannel(telegram.base_url, SecretStr(telegram.token), "-1001234567890")
    asyncio.run(deliver(channel, firing_alert()))
    [message] = telegram.messages
    assert message["chat_id"] == "-1001234567890"
    assert message["text"] == telegram_text(firing_alert())
    assert "WhatsApp session replaced" in message["text"] and COMPANY in message["text"]


@pytest.mark.parametrize(
    ("token", "chat", "outage", "says"),
    [
        ("999:wrong", "-1001234567890", None, "401: Unauthorized"),
        (None, "-1009999999999", None, "chat not found"),
        (None, "-1001234567890", 429, "429"),
    ],
)
def test_telegram_refusals_are_not_delivered_and_never_quote_the_token(
    telegram: TelegramBotApi, token: str | None, chat: str, outage: int | None, says: str
) -> None:
    telegram.outage = outage
    used = token or telegram.token
    channel = TelegramChannel(telegram.base_url, SecretStr(used), chat)
    with pytest.raises(AlertNotDelivered, match=says) as refused:
        asyncio.run(deliver(channel, firing_alert()))
    assert used not in str(refused.value)
    assert telegram.messages == []


def test_a_resolved_alert_says_how_long_it_lasted() -> None:
    state, _ = step(
        COMPANY, Condition.SESSION_REPLACED, AlertState(), REPLACED, T0, grace_seconds=0, repeat_seconds=REPEAT
    )
    _, resolved = step(
        COMPANY, Condition.SESSION_REPLACED, state, None, T0 + 42 * MINUTE, grace_seconds=0, repeat_seconds=REPEAT
    )
    assert resolved is not None
    text = telegram_text(resolved)
    assert text.startswith("✅ Resolved: WhatsApp session replaced")
    assert "about 42 min" in text


def test_telegram_needs_both_the_token_and_the_chat() -> None:
    with pytest.raises(ConfigurationError, match="TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID"):
        load_settings(ApiSettings, _env_file=None, TELEGRAM_BOT_TOKEN="123456:secret-token")


def test_a_webhook_url_that_is_not_http_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigurationError, match="ALERT_WEBHOOK_URL: must start with http") as refused:
        load_settings(ApiSettings, _env_file=None, ALERT_WEBHOOK_URL="hooks.example/T0/secret-path")
    assert "secret-path" not in str(refused.value)
