"""The receptionist: one client turn in, a decision (steps, reply parts, reaction) out.

In the original's order: thanks and closing first (a ❤️ and no text when nothing else was asked),
then the two stages through the configured provider, falling back to the embedded one when an LLM
fails. The turn's rules are applied to whatever the provider wrote: no WhatsApp markdown, greeting
once a day, "Чем ещё могу помочь?" at most every 30 minutes, and never a claim of a booking,
cancellation or move that the backend did not confirm.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.worker.receptionist.catalog import CatalogView
from services.worker.receptionist.commands import SIDE_EFFECTS
from services.worker.receptionist.decision import Decision, Reaction
from services.worker.receptionist.executor import Executor
from services.worker.receptionist.ledger import TurnLedger
from services.worker.receptionist.memory import ChatMemory, RemindedVisit
from services.worker.receptionist.policy import Policy
from services.worker.receptionist.providers.base import Provider
from services.worker.receptionist.providers.embedded import HELP_QUESTION, EmbeddedProvider
from services.worker.receptionist.truth import clock_times, unbacked_times, unconfirmed_claim
from services.worker.receptionist.turn import ProviderFailed, Turn
from services.worker.receptionist.turn_metrics import measured_turn
from services.worker.receptionist.understanding.parse import Understanding, understand
from services.worker.receptionist.understanding.text import Language, detect_language
from shared.booking.backend import BookingBackend
from shared.clock import Clock, zone
from shared.logging import get_logger
from shared.reminders.context import ReminderContext
from shared.visits.own import OwnChanges

log = get_logger(__name__)

THANKS_EMOJI = "❤️"
HELP_INTERVAL = timedelta(minutes=30)
_MARKDOWN = re.compile(r"[*_~`]")


def without_markdown(text: str) -> str:
    return _MARKDOWN.sub("", text)


@dataclass
class Receptionist:
    backend: BookingBackend
    provider: Provider
    embedded: EmbeddedProvider
    frozen_at: datetime | None = None
    on_fallback: Callable[[str], None] | None = None
    """Told why, each time a turn falls back from the LLM (the worker counts them in Redis for the alerts)."""
    own_changes: OwnChanges | None = None
    """Told before the receptionist moves or cancels a visit, so the scheduler sends no notice of it."""

    @measured_turn
    def decide(
        self,
        *,
        phone: str,
        text: str,
        last_message_id: str,
        push_name: str | None,
        memory: ChatMemory,
        ledger: TurnLedger,
        reminder: ReminderContext | None = None,
    ) -> Decision:
        """``reminder``: the client is answering a reminder with a "no" ("не смогу"): offer to cancel or move it."""
        catalog = CatalogView.load(self.backend)
        now = Clock(zone(catalog.company.timezone), self.frozen_at).now()
        language: Language = detect_language(text) or memory.dialog.language or memory.preferences.language or "ru"
        memory.dialog.language = memory.preferences.language = language
        memory.remember("client", text, now)
        dialog = memory.dialog
        # Per turn: only a turn answering a reminder with a "no" is about the reminded visit.
        dialog.reminded = (
            RemindedVisit(
                booking_id=reminder.visit_id, start=reminder.start, service=reminder.service, staff=reminder.staff
            )
            if reminder is not None
            else None
        )
        u = understand(
            text,
            now.date(),
            catalog.service_matcher,
            catalog.staff_matcher,
            expecting_name=dialog.pending is not None and dialog.pending.kind == "name",
            among_services=[s for s in catalog.services if dialog.pending and s.id in dialog.pending.service_ids]
            or None,
        )
        reaction = Reaction(emoji=THANKS_EMOJI, message_id=last_message_id) if u.thanks else None
        if (u.thanks or u.closing) and self._only_courtesy(u, catalog, memory, now):
            memory.client.asked_help_at = None
            log.info("Thanks or closing: no text", thanks=u.thanks, closing=u.closing)
            return Decision(provider="rules", reaction=reaction)

        executor = Executor(
            self.backend, catalog, memory, ledger, phone=phone, now=now, push_name=push_name, own=self.own_changes
        )
        greet = memory.client.last_greeting_date != now.date()
        asked = memory.client.asked_help_at
        turn = Turn(
            phone=phone,
            text=text,
            push_name=push_name,
            now=now,
            language=language,
            memory=memory,
            catalog=catalog,
            executor=executor,
            understanding=u,
            greet=greet,
            may_offer_help=asked is None or now - asked >= HELP_INTERVAL,
        )
        provider_name, fallback_reason = self.provider.name, None
        try:
            reply = self.provider.respond(turn)
        except ProviderFailed as error:
            fallback_reason = str(error)
            log.warning(
                "AI provider failed; answering with the embedded provider",
                provider=self.provider.name,
                reason=fallback_reason,
            )
        else:
            if self.provider is not self.embedded:
                fallback_reason = self._untrue(reply, turn)
        if fallback_reason is not None:
            if self.on_fallback is not None:
                self.on_fallback(fallback_reason)
            provider_name = self.embedded.name
            if any(step.name in SIDE_EFFECTS for step in executor.steps):
                # The LLM already changed the book: say what happened rather than plan the turn again.
                reply = self.embedded.write(turn)
            else:
                reply = self.embedded.respond(turn)
        reply = without_markdown(reply).strip()
        if greet and reply:
            memory.client.last_greeting_date = now.date()
        if HELP_QUESTION[language] in reply or HELP_QUESTION["ru"] in reply:
            memory.client.asked_help_at = now
        memory.remember("assistant", reply, now)
        parts = [part.strip() for part in re.split(r"\n\s*\n", reply) if part.strip()]
        return Decision(
            provider=provider_name,
            steps=executor.steps,
            parts=parts,
            reaction=reaction,
            fallback_reason=fallback_reason,
        )

    @property
    def reads_history(self) -> bool:
        """Whether a turn shows the chat's last lines to anyone: only an LLM reads them, the embedded
        provider works from the dialog state (and so does the fallback to it)."""
        return self.provider is not self.embedded

    def _untrue(self, reply: str, turn: Turn) -> str | None:
        """Why an LLM's reply can't be sent as it is, if it can't: a claim or a time the backend didn't give."""
        steps = turn.executor.steps
        claim = unconfirmed_claim(reply, steps)
        if claim is not None:
            log.warning(
                "AI reply claimed a change the backend did not confirm; answering with the embedded provider",
                provider=self.provider.name,
                claim=claim,
            )
            return f"unconfirmed claim: {claim}"
        offered = {f"{slot.start:%H:%M}" for slot in turn.memory.dialog.offered}
        stray = unbacked_times(reply, steps, offered | clock_times(turn.text))
        if stray:
            log.warning(
                "AI reply named times the backend did not return; answering with the embedded provider",
                provider=self.provider.name,
                times=sorted(stray),
            )
            return f"times not from the backend: {', '.join(sorted(stray))}"
        return None

    @staticmethod
    def _only_courtesy(u: Understanding, catalog: CatalogView, memory: ChatMemory, now: datetime) -> bool:
        """Thanks or "это всё" with nothing else asked: planning it would only ask "what do you want?"."""
        if u.closing and not (
            u.services or u.day or u.has_time or u.intents - {"greeting", "agree", "decline", "cant_come"}
        ):
            return True
        plan = Policy(catalog, memory.model_copy(deep=True), now).plan(dataclasses.replace(u))
        return not plan.commands and all(
            outcome in ("not_understood", "greeting_only", "other_time") for outcome, _ in plan.clarifications
        )
