"""AI cost is capped per chat and hour; a burst is never rejected and the client is never ignored."""

from __future__ import annotations

from collections.abc import Callable

from services.worker.pipeline import BUDGET_EXHAUSTED_MESSAGE
from tests.support.replies import answered_once
from tests.support.services import Stack
from tests.support.waiting import wait_for


def test_past_the_hourly_budget_the_client_gets_one_note_instead_of_ai_replies(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(REPLY_BUDGET_PER_HOUR="1")
    stack.start()
    phone = "79001113344"
    worker = stack.services["worker"]

    stack.client_writes(phone, "Первый вопрос")
    wait_for(lambda: answered_once(stack, phone), 60, "the AI's reply to the first batch")
    first_reply = len(stack.outbox(phone))
    stack.client_writes(phone, "Второй вопрос")
    wait_for(lambda: len(stack.outbox(phone)) == first_reply + 1, 60, "the budget note")
    stack.client_writes(phone, "Третий вопрос")
    wait_for(lambda: worker.output().count("AI reply budget exhausted") == 2, 60, "the third batch to be handled")
    wait_for(stack.at_rest, 60, "the third batch's note, if any, to be sent")

    texts = [item["text"] for item in stack.outbox(phone)]
    assert BUDGET_EXHAUSTED_MESSAGE not in texts[:first_reply]
    assert texts[first_reply:] == [BUDGET_EXHAUSTED_MESSAGE]
