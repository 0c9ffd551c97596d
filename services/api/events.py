"""Log the session owner's events (connected, replaced, logged out) published on ``whatsapp:events``."""

from __future__ import annotations

import json
from typing import Any

import redis
from redis.client import PubSub, PubSubWorkerThread

from shared import redis_keys
from shared.logging import get_logger

log = get_logger(__name__)

ALARMING = frozenset({"connection_replaced", "logout", "banned", "outdated", "qr_expired"})


def _on_message(message: dict[str, Any]) -> None:
    try:
        event = json.loads(message["data"])
    except (TypeError, ValueError):
        return
    if not isinstance(event, dict) or "type" not in event:
        return
    level = log.error if event["type"] in ALARMING else log.info
    level(
        "WhatsApp event",
        wa_event=event["type"],
        company_id=event.get("companyId"),
        phone_number=event.get("phoneNumber"),
        reason=event.get("reason"),
    )


def _on_error(error: BaseException, pubsub: PubSub, thread: PubSubWorkerThread) -> None:
    # A Redis restart drops the subscription; redis-py resubscribes on the next read.
    log.warning("WhatsApp event listener lost Redis; resubscribing", error=str(error))


def start_event_listener(client: redis.Redis) -> PubSubWorkerThread:
    pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
    pubsub.subscribe(**{redis_keys.EVENTS_CHANNEL: _on_message})
    thread: PubSubWorkerThread = pubsub.run_in_thread(sleep_time=1.0, daemon=True, exception_handler=_on_error)
    return thread
