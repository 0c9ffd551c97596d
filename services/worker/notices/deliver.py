"""Sending one reminder or notice the scheduler queued: checked against the backend, then sent once.

Right before sending, the visit is read again: a reminder for a visit moved or cancelled since it was
queued is dropped (its new time has reminders of its own), and so is one whose moment has passed. The send
carries the notice's key as its idempotency key, so a retry after a ``kill -9`` mid-send, or the same notice
queued twice, reaches the client once. After a reminder was sent, the chat remembers it for a while, so the
client's "да" confirms that visit.
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.worker.notices.texts import notice_text
from services.worker.pipeline import WorkerDeps
from shared.clock import Clock, zone
from shared.logging import bound, get_logger
from shared.reminders.context import ReminderContext, ReminderContexts
from shared.reminders.notice import Notice
from shared.reminders.plan import still_current

log = get_logger(__name__)


def deliver_notice(notice: Notice, deps: WorkerDeps) -> str:
    """Send ``notice`` unless it stopped being true; what happened, for the job's result."""
    backend = deps.receptionist.backend
    with bound(company_id=notice.company_id, chat=notice.phone, visit_id=notice.visit_id, notice=notice.key):
        company = backend.company()
        now = Clock(zone(company.timezone), deps.settings.clock_frozen_at).now()
        booking = backend.find_booking(notice.visit_id)
        reason = still_current(notice, booking, now)
        if reason is not None:
            log.info("Notice not sent", kind=notice.kind, reason=reason)
            return f"not sent: {reason}"
        memory = deps.memory.load(notice.company_id, notice.phone)
        language = memory.preferences.language or "ru"
        name = (booking.client_name if booking is not None else "") or memory.client.name or ""
        text = notice_text(notice, booking, company, now=now, language=language, name=name)
        log.info("Sending notice", kind=notice.kind)
        result = deps.sender.send_text(notice.company_id, notice.phone, text, notice.key)
        log.info(
            "Notice sent",
            kind=notice.kind,
            wa_message_id=result.get("messageId"),
            duplicate=result.get("duplicate", False),
        )
        if notice.is_reminder:
            context = ReminderContext(
                visit_id=notice.visit_id,
                kind=notice.kind,
                start=notice.start,
                service=booking.service if booking is not None else "",
                staff=booking.staff if booking is not None else "",
                sent_at=datetime.now(UTC),
            )
            ReminderContexts(deps.redis, notice.company_id).remember(notice.phone, context)
        return "sent"
