"""Log the session owner's events (connected, replaced, logged out) published on ``whatsapp:events``."""

from __future__ import annotations

from typing import Any

import redis
from pydantic import ValidationError
from redis.client import PubSub, PubSubWorkerThread

from shared import redis_keys
from shared.logging import get_logger
from shared.wire import SessionEvent

log = get_logger(__name__)

ALARMING = frozenset({"connection_replaced", "logout", "banned", "outdated", "qr_expired"})


def _on_message(message: dict[str, Any]) -> None:
    try:
        event = SessionEvent.model_validate_json(message["data"])
    except (TypeError, ValidationError):
        return  # someone else's message on the channel (the original's ping, say)
    level = log.error if event.type in ALARMING else log.info
    level(
        "WhatsApp event",
        wa_event=event.type,
        company_id=event.company_id,
        phone_number=event.phone_number,
        reason=event.reason,
    )


def _on_error(error: BaseException, pubsub: PubSub, thread: PubSubWorkerThread) -> None:
    # A Redis restart drops the subscription; redis-py resubscribes on the next read.
    log.warning("WhatsApp event listener lost Redis; resubscribing", error=str(error))


def start_event_listener(client: redis.Redis) -> PubSubWorkerThread:
    pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
    pubsub.subscribe(**{redis_keys.EVENTS_CHANNEL: _on_message})
    thread: PubSubWorkerThread = pubsub.run_in_thread(sleep_time=1.0, daemon=True, exception_handler=_on_error)
    return thread
