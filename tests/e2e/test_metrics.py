"""/metrics of the gateway and the api, and the worker's metrics port, as real processes: one message moves them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

from services.api.settings import ApiSettings
from services.worker.settings import WorkerSettings
from tests.support.metrics import Scrape, scrape
from tests.support.services import REPO_ROOT, Stack
from tests.support.waiting import wait_for

CLIENT = "79001234567"
METRIC_NAME = r"ai_admin_[a-z_]*[a-z](?![a-z_*])"
"""A name in the docs; not a pattern such as ``ai_admin_wa_*``."""


def metrics_docs() -> str:
    text = (REPO_ROOT / "docs" / "operations.md").read_text()
    return text[text.index("\n## Metrics") :]


def yaml_blocks() -> list[Any]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", metrics_docs(), re.DOTALL)]


def family_name(name: str) -> str:
    """What the parser calls a metric: a counter without ``_total``, a histogram without its suffixes."""
    return re.sub(r"_(total|bucket|count|sum)$", "", name)


def test_one_message_moves_the_metrics_of_all_three_services(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    stack.start()

    stack.client_writes(CLIENT, "Сколько стоит маникюр?", push_name="Аня")
    replies = wait_for(lambda: stack.outbox(CLIENT), 60, "the reply in the simulator's outbox")
    wait_for(stack.at_rest, 30, "the stack at rest")
    texts = [reply for reply in stack.outbox(CLIENT) if reply["kind"] == "text"]
    assert replies

    def gateway_counted_the_reply() -> Scrape | None:
        found = scrape(f"{stack.gateway_url}/metrics")
        return found if found.value("ai_admin_wa_messages_sent_total") == len(texts) else None

    gateway = wait_for(gateway_counted_the_reply, 10, "the gateway to count the sent reply")
    assert gateway.content_type.startswith("text/plain")
    assert gateway.value("ai_admin_wa_messages_received_total") == 1
    assert gateway.value("ai_admin_wa_session_status", status="connected") == 1
    assert gateway.value("ai_admin_wa_session_status") == 1  # one-hot: every other status is 0
    assert gateway.value("ai_admin_journal_backlog") == 0
    assert gateway.value("ai_admin_journal_oldest_age_seconds") == 0
    assert gateway.value("ai_admin_gateway_webhook_seconds_count", status="2xx") >= 1
    assert gateway.value("ai_admin_gateway_send_seconds_count", kind="text", outcome="sent") == len(texts)
    assert gateway.value("ai_admin_wa_errors_total") == 0

    api = scrape(f"{stack.api_url}/metrics")
    assert api.value("ai_admin_api_webhook_messages_total", result="added") == 1
    assert api.value("ai_admin_api_webhook_seconds_count", outcome="ok") >= 1
    assert api.value("ai_admin_redis_up") == 1
    assert api.value("ai_admin_queue_depth", state="queued") == 0
    assert api.value("ai_admin_queue_failed_jobs") == 0

    # Counted inside one of the worker processes; the worker's main process (which serves the port) never
    # runs a turn, so these are only here if that process's values reached the port through PROMETHEUS_MULTIPROC_DIR.
    worker = scrape(stack.worker_metrics_url)
    assert worker.value("ai_admin_ai_turns_total", provider="embedded", outcome="answered") == 1
    assert worker.value("ai_admin_ai_turn_seconds_count", provider="embedded") == 1
    assert worker.value("ai_admin_booking_backend_calls_total", backend="local", status="ok") >= 1
    assert "ai_admin_bookings_total" not in worker.names()  # a price question books nothing

    # Scraped again (the files of any process that has exited are folded into the archive): nothing lost or doubled.
    again = scrape(stack.worker_metrics_url)
    assert again.value("ai_admin_ai_turns_total") == 1
    assert again.value("ai_admin_booking_backend_calls_total") == worker.value("ai_admin_booking_backend_calls_total")

    # Every metric the docs name (the table, the alert rules) is one these three processes define.
    defined = gateway.families | api.families | worker.families
    documented = {family_name(name) for name in re.findall(METRIC_NAME, metrics_docs())}
    assert documented - defined == set()
    rules = [rule for group in yaml_blocks()[1]["groups"] for rule in group["rules"]]
    assert len(rules) == 3
    for rule in rules:
        assert {family_name(name) for name in re.findall(METRIC_NAME, rule["expr"])} <= defined


def test_the_documented_scrape_config_targets_the_default_ports() -> None:
    config = yaml_blocks()[0]
    api = ApiSettings.model_fields
    worker = WorkerSettings.model_fields
    expected = {
        "ai-admin-gateway": f"{api['wa_gateway_host'].default}:{api['wa_gateway_port'].default}",
        "ai-admin-api": f"{api['api_host'].default}:{api['api_port'].default}",
        "ai-admin-worker": f"{worker['worker_metrics_host'].default}:{worker['worker_metrics_port'].default}",
    }
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert jobs == {name: [target] for name, target in expected.items()}
