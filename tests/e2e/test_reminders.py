"""Reminders, confirmations and notices through the whole stack: real processes (the scheduler included),
the simulator, and the YClients stand-in (or the local salon and its administrator's CLI).

The salon's clock is real here: the day-before window covers the whole day (``00:00-24:00``), and the
visits are placed relative to now, so the tests run at any hour. Visits the "administrator" made are
backdated a day (``created``), as a booking made earlier would be: a reminder is not sent for a visit
booked less than its lead time before.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from shared.booking.catalog import DEMO_CATALOG
from tests.support.dialogues import CORPUS_NOW
from tests.support.fakes.yclients import YClientsStandIn
from tests.support.services import QUICK_ABANDON, Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

SALON = ZoneInfo("Europe/Moscow")
MANICURE, MARIA = 1005, 2002
HAIRCUT, ANNA = 1001, 2001
RATE = {"per_second": 20, "per_minute": 2000}
WEBHOOK_KEY = "a-yclients-webhook-key-for-tests"


@pytest.fixture
def standin() -> Iterator[YClientsStandIn]:
    server = YClientsStandIn(DEMO_CATALOG, rate_per_second=RATE["per_second"], rate_per_minute=RATE["per_minute"])
    server.start()
    yield server
    server.stop()


def yclients_env(server: YClientsStandIn, **overrides: str) -> dict[str, str]:
    return {
        "BOOKING_BACKEND": "yclients",
        "YCLIENTS_API_URL": server.base_url,
        "YCLIENTS_PARTNER_TOKEN": "partner-token",
        "YCLIENTS_USER_TOKEN": "user-token",
        "YCLIENTS_RATE_PER_SECOND": str(RATE["per_second"]),
        "YCLIENTS_RATE_PER_MINUTE": str(RATE["per_minute"]),
        "REMINDER_DAY_BEFORE_WINDOW": "00:00-24:00",
        "SCHEDULER_POLL_SECONDS": "1",
        **overrides,
    }


def now() -> datetime:
    return datetime.now(SALON).replace(second=0, microsecond=0)


def tomorrow_at(hour: int) -> datetime:
    return (now() + timedelta(days=1)).replace(hour=hour, minute=0)


def texts(stack: Stack, phone: str) -> list[str]:
    return [str(item["text"]) for item in stack.outbox(phone) if item["kind"] == "text"]


def log_lines(stack: Stack, name: str, event: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stack.log(name).splitlines() if f'"{event}"' in line]


def polls(standin: YClientsStandIn) -> int:
    """How many times the scheduler has asked for the records (each cycle asks once)."""
    return sum(1 for entry in standin.requests if entry.method == "GET" and entry.path.startswith("records/"))


def wait_for_more_cycles(standin: YClientsStandIn, cycles: int = 3) -> None:
    """The scheduler has run ``cycles`` more full cycles: anything it would queue again, it has queued."""
    seen = polls(standin)
    wait_for(lambda: polls(standin) >= seen + cycles + 1, 60, f"{cycles} more scheduler cycles")


def test_each_visit_gets_exactly_one_reminder_across_a_scheduler_restart_and_a_worker_killed_mid_send(
    make_stack: Callable[..., Stack], standin: YClientsStandIn
) -> None:
    yesterday = now() - timedelta(days=1)
    tomorrow, soon = tomorrow_at(12), now() + timedelta(hours=2)
    standin.add_record(service_id=MANICURE, staff_id=MARIA, start=tomorrow, phone="79008880001", name="Ольга",
                       created=yesterday)  # fmt: skip
    standin.add_record(service_id=HAIRCUT, staff_id=ANNA, start=soon, phone="79008880002", name="Анна",
                       created=yesterday)  # fmt: skip
    # The simulated WhatsApp takes 3 s to accept each send: the worker is killed inside one.
    stack = make_stack(**yclients_env(standin), SIMULATOR_SEND_DELAY_SECONDS="3", **QUICK_ABANDON)
    stack.start()
    stack.start("scheduler")
    wait_for(lambda: log_lines(stack, "worker", "Sending notice"), 60, "a reminder being sent")
    stack.services["worker"].kill()
    assert not log_lines(stack, "worker", "Notice sent"), "the worker was killed after the send, not inside it"
    stack.restart("scheduler")

    stack.services["worker"].start()
    stack.wait_ready("worker")
    # The visit in two hours is tomorrow's when it is late in the evening: then it is due a day-before one too.
    expected_soon = 2 if soon.date() == now().date() + timedelta(days=1) else 1
    wait_for(lambda: len(stack.outbox("79008880001")) >= 1, 120, "the day-before reminder")
    wait_for(lambda: len(stack.outbox("79008880002")) >= expected_soon, 120, "the two-hour reminder")
    wait_for(stack.at_rest, 90, "every job to finish, the abandoned one included")
    wait_for_more_cycles(standin)
    wait_for(stack.at_rest, 60, "anything the scheduler queued again to finish")

    day_before = texts(stack, "79008880001")
    assert len(day_before) == 1, day_before
    assert "12:00" in day_before[0] and "маникюр" in day_before[0].lower() and "Ольга" in day_before[0]
    two_hours = texts(stack, "79008880002")
    assert len(two_hours) == expected_soon, two_hours
    assert all(f"{soon:%H:%M}" in text for text in two_hours)
    assert not any(mark in text for text in day_before + two_hours for mark in "*_~"), "no WhatsApp markdown"
    # A killed send either reached the gateway (its retry is then answered as a duplicate) or did not (the
    # retry is the first send): either way each reminder's send ended, and WhatsApp got it once (above).
    sent = {line["notice"] for line in log_lines(stack, "worker", "Notice sent")}
    assert len(sent) == 1 + expected_soon, sent


def test_da_after_a_reminder_confirms_the_visit_with_a_heart_and_ne_smogu_gets_the_offer_to_cancel_or_move(
    make_stack: Callable[..., Stack], standin: YClientsStandIn
) -> None:
    yesterday = now() - timedelta(days=1)
    confirming = standin.add_record(service_id=MANICURE, staff_id=MARIA, start=tomorrow_at(12), phone="79008880011",
                                    name="Ольга", created=yesterday)  # fmt: skip
    declining = standin.add_record(service_id=HAIRCUT, staff_id=ANNA, start=tomorrow_at(15), phone="79008880012",
                                   name="Анна", created=yesterday)  # fmt: skip
    stack = make_stack(**yclients_env(standin))
    stack.start()
    stack.start("scheduler")
    wait_for(lambda: stack.outbox("79008880011") and stack.outbox("79008880012"), 60, "both reminders")

    yes = stack.client_writes("79008880011", "Да, буду!")
    wait_for(lambda: len(stack.outbox("79008880011")) == 2, 60, "the answer to the yes")
    assert [(item["kind"], item.get("emoji"), item.get("messageId")) for item in stack.outbox("79008880011")[1:]] == [
        ("reaction", "❤️", yes)
    ]
    assert standin.record(confirming)["attendance"] == 2, "the YClients stand-in sees the visit confirmed"

    stack.client_writes("79008880012", "К сожалению, не смогу")
    wait_for(lambda: len(stack.outbox("79008880012")) == 2, 60, "the answer to the no")
    offer = texts(stack, "79008880012")[1]
    assert "Отменить" in offer and "перенести" in offer and "15:00" in offer, offer
    record = standin.record(declining)
    assert (record["attendance"], record["deleted"]) == (0, False), "nothing changes before the client says what"

    # Confirming is no change the client is told of; nothing else reaches either chat.
    wait_for_more_cycles(standin)
    wait_for(stack.at_rest, 60, "the stack to be at rest")
    assert len(stack.outbox("79008880011")) == 2
    assert len(stack.outbox("79008880012")) == 2


def test_a_visit_the_salon_moves_or_cancels_in_yclients_is_noticed_once_and_its_old_reminders_are_not_sent(
    make_stack: Callable[..., Stack], standin: YClientsStandIn
) -> None:
    yesterday = now() - timedelta(days=1)
    moved = standin.add_record(service_id=MANICURE, staff_id=MARIA, start=tomorrow_at(12), phone="79008880021",
                               name="Ольга", created=yesterday)  # fmt: skip
    cancelled = standin.add_record(service_id=HAIRCUT, staff_id=ANNA, start=tomorrow_at(15), phone="79008880022",
                                   name="Анна", created=yesterday)  # fmt: skip
    stack = make_stack(**yclients_env(standin))
    stack.start("wa-gateway", "api")  # no worker yet: the reminders for the old times wait in the queue
    stack.start("scheduler")
    wait_for(lambda: len(log_lines(stack, "scheduler", "Notice queued")) == 2, 60, "both day-before reminders queued")

    standin.move_record(moved, tomorrow_at(17))
    standin.cancel_record(cancelled)
    wait_for(
        lambda: {line["kind"] for line in log_lines(stack, "scheduler", "Notice queued")} >= {"moved", "cancelled"},
        60,
        "the notices of the move and the cancellation",
    )
    stack.start("worker")
    wait_for(lambda: stack.outbox("79008880021") and stack.outbox("79008880022"), 60, "the notices")
    wait_for_more_cycles(standin)
    wait_for(stack.at_rest, 60, "the stack to be at rest")

    [notice_of_move] = texts(stack, "79008880021")
    assert "перенесена" in notice_of_move and "12:00" in notice_of_move and "17:00" in notice_of_move, notice_of_move
    [notice_of_cancel] = texts(stack, "79008880022")
    assert "отменена" in notice_of_cancel and "извинения" in notice_of_cancel, notice_of_cancel
    not_sent = {line["visit_id"]: line["reason"] for line in log_lines(stack, "worker", "Notice not sent")}
    assert not_sent == {moved: "the visit was moved since", cancelled: "the visit is cancelled"}
    # The move was made after the day-before window opened: the new time gets no second reminder today.
    assert [line["kind"] for line in log_lines(stack, "scheduler", "Notice queued")].count("day_before") == 2


def test_a_yclients_webhook_wakes_the_scheduler_and_a_repeated_one_is_taken_once(
    make_stack: Callable[..., Stack], standin: YClientsStandIn
) -> None:
    in_three_days, yesterday = now() + timedelta(days=3), now() - timedelta(days=1)
    visit = standin.add_record(service_id=MANICURE, staff_id=MARIA, start=in_three_days, phone="79008880031",
                               name="Ольга", created=yesterday)  # fmt: skip
    # A poll an hour apart: only the webhook can make the scheduler look again within the test.
    stack = make_stack(**yclients_env(standin, SCHEDULER_POLL_SECONDS="3600", YCLIENTS_WEBHOOK_KEY=WEBHOOK_KEY))
    stack.start()
    stack.start("scheduler")
    wait_for(lambda: log_lines(stack, "scheduler", "Salon's visits listed"), 60, "the scheduler's first look")
    url = f"{stack.api_url}/webhook/yclients"
    standin.send_hooks_to(f"{url}?key={WEBHOOK_KEY}")

    standin.cancel_record(visit)
    wait_for(lambda: texts(stack, "79008880031"), 60, "the notice of the cancellation")
    assert standin.hook_deliveries == [(visit, 200)]
    event = {"company_id": 962302, "resource": "record", "resource_id": visit, "status": "delete", "data": {}}
    assert httpx.post(f"{url}?key={WEBHOOK_KEY}", json=event).json()["accepted"] == 1
    assert httpx.post(f"{url}?key={WEBHOOK_KEY}", json=event).json()["duplicates"] == 1
    assert httpx.post(f"{url}?key=wrong-key-of-the-same-size-000", json=event).status_code == 401
    assert httpx.post(url, json=event).status_code == 401
    other = {**event, "company_id": 1}
    assert httpx.post(f"{url}?key={WEBHOOK_KEY}", json=other).status_code == 404
    wait_for(stack.at_rest, 60, "the stack to be at rest")
    assert len(texts(stack, "79008880031")) == 1


FROZEN = {"CLOCK_FROZEN_AT": CORPUS_NOW.isoformat(), "API_KEY": "an-api-key-for-the-e2e-suite"}
"""The local salon's tests stand at the corpus' Monday morning, so Friday 15:00 is free whenever they run."""


def salon_cli(stack: Stack, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "visits", *args],
        env=stack.services["scheduler"].env,
        cwd=stack.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_on_the_local_salon_a_visit_booked_moved_and_cancelled_through_the_cli_is_told_once_each(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(**FROZEN)
    stack.start()
    stack.start("scheduler")
    wait_for(lambda: log_lines(stack, "scheduler", "Salon's visits listed"), 60, "the scheduler's first look")
    phone = "79008880041"
    booked = salon_cli(stack, "book", "--phone", phone, "--name", "Ольга", "--service", str(MANICURE),
                       "--staff", str(MARIA), "2026-11-27 15:00")  # fmt: skip
    visit = booked.split()[1].rstrip(":")
    wait_for(lambda: len(texts(stack, phone)) == 1, 60, "the notice of the new visit")
    salon_cli(stack, "move", visit, "2026-11-27 17:00")
    wait_for(lambda: len(texts(stack, phone)) == 2, 60, "the notice of the move")
    salon_cli(stack, "cancel", visit)
    wait_for(lambda: len(texts(stack, phone)) == 3, 60, "the notice of the cancellation")
    wait_for(stack.at_rest, 60, "the stack to be at rest")

    created, moved, cancelled = texts(stack, phone)
    assert "записал вас" in created and "15:00" in created
    assert "перенесена" in moved and "15:00" in moved and "17:00" in moved
    assert "отменена" in cancelled and "17:00" in cancelled
    assert len(log_lines(stack, "scheduler", "Notice queued")) == 3


def test_a_booking_made_in_the_chat_gets_a_calendar_link_and_no_notice_of_its_own(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(**FROZEN, CALENDAR_LINK_SECRET="a-calendar-link-secret-for-tests")
    for name in ("api", "worker"):
        stack.services[name].env["PUBLIC_BASE_URL"] = stack.api_url
    stack.start()
    stack.start("scheduler")
    wait_for(lambda: log_lines(stack, "scheduler", "Salon's visits listed"), 60, "the scheduler's first look")
    phone = "79008880051"
    stack.client_writes(phone, "Запишите меня к Марии на маникюр в пятницу в 15:00", push_name="Ольга")
    wait_for(lambda: any("📅" in text for text in texts(stack, phone)), 60, "the calendar link")
    link = next(text for text in texts(stack, phone) if "📅" in text).split()[-1]
    assert link.startswith(f"{stack.api_url}/api/calendar/") and link.endswith(".ics")

    calendar = httpx.get(link)
    assert calendar.status_code == 200, calendar.text
    assert calendar.headers["content-type"].startswith("text/calendar")
    assert "DTSTART;TZID=Europe/Moscow:20261127T150000" in calendar.text
    assert "SUMMARY:Маникюр" in calendar.text
    token = link.rsplit("/", 1)[1].removesuffix(".ics")
    forged = f"{token[:-2]}{'AA' if not token.endswith('AA') else 'BB'}"
    assert httpx.get(f"{stack.api_url}/api/calendar/{forged}.ics").status_code == 401

    # The scheduler sees the new visit and knows it is the receptionist's: the client already has the reply.
    wait_for(lambda: log_lines(stack, "scheduler", "Visit changed"), 60, "the scheduler to see the booking")
    [seen] = log_lines(stack, "scheduler", "Visit changed")
    assert seen["why"] == "created by the receptionist (the client has the reply)"
    wait_for(stack.at_rest, 60, "the stack to be at rest")
    assert not log_lines(stack, "scheduler", "Notice queued")
    assert sum("Вы записаны" in text for text in texts(stack, phone)) == 1
