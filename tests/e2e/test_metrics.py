"""/metrics of the gateway and the api, and the worker's metrics port, as real processes: one message moves them."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.metrics import Scrape, scrape
from tests.support.services import Stack
from tests.support.waiting import wait_for

CLIENT = "79001234567"


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

    # Counted inside the work horse RQ forked for the job; the worker's main process never runs a turn,
    # so these are only here if the horse's values reached the port through PROMETHEUS_MULTIPROC_DIR.
    worker = scrape(stack.worker_metrics_url)
    assert worker.value("ai_admin_ai_turns_total", provider="embedded", outcome="answered") == 1
    assert worker.value("ai_admin_ai_turn_seconds_count", provider="embedded") == 1
    assert worker.value("ai_admin_booking_backend_calls_total", backend="local", status="ok") >= 1
    assert "ai_admin_bookings_total" not in worker.names()  # a price question books nothing

    # Scraped again after the horse's files were folded into the archive: nothing lost, nothing doubled.
    again = scrape(stack.worker_metrics_url)
    assert again.value("ai_admin_ai_turns_total") == 1
    assert again.value("ai_admin_booking_backend_calls_total") == worker.value("ai_admin_booking_backend_calls_total")
