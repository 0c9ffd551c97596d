"""A client's reply to a reminder, inside a turn: a "yes" confirms the visit; and the calendar link.

A "yes" within REMINDER_REPLY_MINUTES of a reminder marks the visit confirmed in the backend and gets a ❤️
on the client's message, no text; only after the backend confirmed it. A "no" goes to the receptionist
(``Receptionist.decide(reminder=...)``), which offers to cancel or move that visit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from services.worker.receptionist.agent import THANKS_EMOJI
from services.worker.receptionist.commands import Step
from services.worker.receptionist.decision import Decision, Reaction
from services.worker.receptionist.executor import booking_json
from services.worker.receptionist.understanding.text import Language
from services.worker.settings import WorkerSettings
from shared.batching import Batch
from shared.errors import BookingNotFound
from shared.logging import get_logger
from shared.reminders.calendar import calendar_token, calendar_url
from shared.reminders.context import ReminderContext, ReminderContexts

if TYPE_CHECKING:
    from services.worker.pipeline import WorkerDeps

log = get_logger(__name__)

CALENDAR_LINE = {"ru": "📅 Добавить в календарь: {url}", "en": "📅 Add to calendar: {url}"}


def answered_reminder(batch: Batch, deps: WorkerDeps) -> ReminderContext | None:
    """The reminder this batch may be answering: one sent to the chat within REMINDER_REPLY_MINUTES."""
    within = timedelta(minutes=deps.settings.reminder_reply_minutes)
    return ReminderContexts(deps.redis, batch.company_id).recent(batch.chat, within)


def confirm_reminded_visit(batch: Batch, deps: WorkerDeps, reminder: ReminderContext) -> Decision | None:
    """Confirm the visit at the backend, then a ❤️ and no text; None when the visit is no longer on."""
    try:
        booking = deps.receptionist.backend.confirm_booking(reminder.visit_id)
    except BookingNotFound as error:
        log.info("A yes to a reminder, but the visit is no longer on; answered as a message", error=str(error))
        return None
    log.info("Visit confirmed by the client's answer to a reminder", visit_id=booking.id, status=booking.status)
    step = Step(name="CONFIRM_BOOKING", outcome="confirmed", data={"booking": booking_json(booking)})
    return Decision(
        provider="rules",
        steps=[step],
        reaction=Reaction(emoji=THANKS_EMOJI, message_id=batch.last_message_id),
    )


def calendar_links(decision: Decision, settings: WorkerSettings, company_id: str, language: Language) -> list[str]:
    """ "📅 Добавить в календарь" with a signed, expiring link per visit the turn booked (PUBLIC_BASE_URL set)."""
    if not settings.public_base_url:
        return []
    expires = datetime.now(UTC) + timedelta(hours=settings.calendar_link_hours)
    secret = settings.calendar_link_secret.get_secret_value()
    lines = []
    for step in decision.steps:
        if step.name == "CREATE_BOOKING" and step.outcome == "booked":
            token = calendar_token(secret, company_id, int(step.data["booking"]["id"]), expires)
            lines.append(CALENDAR_LINE[language].format(url=calendar_url(settings.public_base_url, token)))
    return lines
