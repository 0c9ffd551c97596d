"""``GET /metrics``: the gateway in Prometheus' text format.

No API key: Prometheus scrapes without headers, the gateway listens on 127.0.0.1 by default, and
nothing here names a client or a message (docs/operations.md, "Metrics"). The session's counters,
its status and the journal's backlog are read at scrape time from what ``GET /health`` reads too.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from services.wa_gateway.deps import Gateway, GatewayDep
from services.wa_gateway.journal import Backlog
from shared.blocking import run_blocking
from shared.metrics import CONTENT_TYPE, Snapshot, exposition
from shared.wire import SessionStatus

router = APIRouter()


def snapshot(gateway: Gateway, backlog: Backlog) -> Snapshot:
    metrics = gateway.session.metrics
    values = Snapshot()
    values.counter(
        "ai_admin_wa_messages_received",
        "Messages from clients journalled (kept across restarts)",
        metrics.messages_received,
    )
    values.counter(
        "ai_admin_wa_messages_sent", "Text messages sent to WhatsApp (kept across restarts)", metrics.messages_sent
    )
    values.counter(
        "ai_admin_wa_errors",
        "Failed text sends and connection failures, the health 'errors' (kept across restarts)",
        metrics.errors,
    )
    values.counter(
        "ai_admin_wa_connect_failures", "Failed connection attempts (kept across restarts)", metrics.failed_reconnects
    )
    values.counter(
        "ai_admin_wa_reconnect_attempts",
        "Connection attempts after the first: after a failure, a disconnect or an operator's request",
        metrics.reconnect_attempts,
    )
    status = gateway.session.state.status
    values.labelled_gauge(
        "ai_admin_wa_session_status",
        "1 for the session's current status, 0 for every other",
        "status",
        ((member.value, 1.0 if member is status else 0.0) for member in SessionStatus),
    )
    values.gauge("ai_admin_journal_backlog", "Journalled messages not yet delivered to the api", backlog.pending)
    values.gauge(
        "ai_admin_journal_oldest_age_seconds",
        "Age of the oldest undelivered journalled message (0 when none waits)",
        backlog.oldest_age_seconds or 0.0,
    )
    values.gauge("ai_admin_journal_rejected", "Journalled messages dead-lettered as malformed", backlog.rejected)
    values.counter(
        "ai_admin_webhook_forwarded_messages",
        "Messages the api accepted from this process (since it started)",
        gateway.forwarder.delivered,
    )
    values.counter(
        "ai_admin_webhook_failed_deliveries",
        "Webhook deliveries that failed and were retried (since this process started)",
        gateway.forwarder.failed_attempts,
    )
    return values


@router.get("/metrics")
async def metrics(gateway: GatewayDep) -> Response:
    backlog = await run_blocking(gateway.journal.backlog)
    return Response(exposition(snapshot(gateway, backlog)), media_type=CONTENT_TYPE)
