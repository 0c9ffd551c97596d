"""``AI_PROVIDER=embedded``: the rule-based receptionist, no network, no key.

Stage 1 is the policy over the understanding of the message; stage 2 writes the reply from the
steps the executor returned, with templates in the client's language.
"""

from __future__ import annotations

from services.worker.receptionist.executor import plausible_name
from services.worker.receptionist.policy import Policy
from services.worker.receptionist.replies.format import time_of_day_greeting
from services.worker.receptionist.replies.render import Writer
from services.worker.receptionist.turn import Turn

HELP_QUESTION = {"ru": "Чем ещё могу помочь?", "en": "Anything else I can help with?"}


class EmbeddedProvider:
    name = "embedded"

    def respond(self, turn: Turn) -> str:
        first_step = len(turn.executor.steps)
        plan = Policy(turn.catalog, turn.memory, turn.now).plan(turn.understanding)
        for command in plan.commands:
            turn.executor.run(command)
        for outcome, data in plan.clarifications:
            turn.executor.clarify(outcome, **data)
        return self.write(turn, first_step)

    def write(self, turn: Turn, first_step: int = 0) -> str:
        """The reply for the steps from ``first_step`` on (a fallback writes only its own)."""
        writer = Writer(turn.memory, turn.now, turn.language, use_name=not turn.greet)
        for step in turn.executor.steps[first_step:]:
            writer.write(step)
        parts = writer.parts
        if turn.greet:
            name = turn.memory.client.name or plausible_name(turn.push_name)
            greeting = time_of_day_greeting(turn.now, turn.language) + (f", {name}!" if name else "!")
            parts = [f"{greeting} {parts[0]}" if parts else greeting, *parts[1:]]
        if writer.completed and turn.may_offer_help:
            parts.append(HELP_QUESTION[turn.language])
        return "\n\n".join(parts)
