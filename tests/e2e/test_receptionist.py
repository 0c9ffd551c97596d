"""The receptionist through the whole stack: real processes, the simulator, and a real booking backend.

The salon's clock is frozen at the corpus' Monday morning (``CLOCK_FROZEN_AT``), so "в пятницу в
15:00" is the same free time whenever the suite runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from shared.booking.catalog import DEMO_CATALOG
from tests.support.dialogues import CORPUS_NOW
from tests.support.fakes.yclients import YClientsStandIn
from tests.support.replies import answered_batches, answered_once
from tests.support.services import QUICK_ABANDON, REPO_ROOT, Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

API_KEY = "an-api-key-for-the-e2e-suite"
FROZEN = {"CLOCK_FROZEN_AT": CORPUS_NOW.isoformat(), "API_KEY": API_KEY}


@pytest.fixture
def standin() -> Iterator[YClientsStandIn]:
    server = YClientsStandIn(DEMO_CATALOG, now=CORPUS_NOW)
    server.start()
    yield server
    server.stop()


def yclients_env(server: YClientsStandIn) -> dict[str, str]:
    return {
        **FROZEN,
        "BOOKING_BACKEND": "yclients",
        "YCLIENTS_API_URL": server.base_url,
        "YCLIENTS_PARTNER_TOKEN": "partner-token",
        "YCLIENTS_USER_TOKEN": "user-token",
    }


def say(stack: Stack, phone: str, text: str, push_name: str | None = None) -> list[dict[str, Any]]:
    """Write as the client and wait until the worker answered; the new outbox items."""
    before = len(stack.outbox(phone))
    batches = len(answered_batches(stack, phone))
    stack.client_writes(phone, text, push_name=push_name)
    wait_for(lambda: len(answered_batches(stack, phone)) > batches and answered_once(stack, phone), 60, "the answer")
    return stack.outbox(phone)[before:]


def texts(items: list[dict[str, Any]]) -> str:
    return "\n".join(str(item.get("text", "")) for item in items if item["kind"] == "text")


def bookings(stack: Stack, phone: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{stack.api_url}/api/companies/962302/bookings", params={"phone": phone}, headers={"x-api-key": API_KEY}
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["bookings"]
    return found


def test_make_chat_books_on_the_demo_salon_in_russian_and_english_and_the_api_lists_it(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(**FROZEN)
    stack.start()
    env = dict(stack.services["wa-gateway"].env)
    conversation = "Запишите меня к Марии на маникюр в пятницу в 15:00\nМеня зовут Ольга\n"
    chat = subprocess.run(
        [sys.executable, "-m", "services.wa_gateway.chat", "--phone", "79007770001"],
        input=conversation,
        capture_output=True,
        text=True,
        env=env,
        cwd=stack.root,
        timeout=120,
    )
    assert chat.returncode == 0, chat.stderr
    assert "Вы записаны на маникюр в пятницу, 27 ноября, в 15:00" in chat.stdout

    english = subprocess.run(
        [sys.executable, "-m", "services.wa_gateway.chat", "--phone", "79007770002", "--name", "Kate"],
        input="Can I book a men's haircut on Friday at 11am?\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=stack.root,
        timeout=120,
    )
    assert english.returncode == 0, english.stderr
    assert "You are booked for men's haircut on Friday, 27 November, at 11:00" in english.stdout

    assert [(b["service"], b["staff"], b["datetime"], b["status"]) for b in bookings(stack, "79007770001")] == [
        ("Маникюр", "Мария Иванова", "2026-11-27T15:00:00+03:00", "booked")
    ]
    assert set(bookings(stack, "+7 900 777-00-02")[0]) == {
        "id", "service_id", "service", "staff_id", "staff", "datetime", "status"
    }  # fmt: skip


def test_the_bookings_listing_names_bad_input_and_needs_the_key(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(**FROZEN)
    stack.start("api")
    url = f"{stack.api_url}/api/companies/962302/bookings"
    key = {"x-api-key": API_KEY}
    assert httpx.get(url, params={"phone": "79001234567"}).status_code == 401
    bad_phone = httpx.get(url, params={"phone": "12"}, headers=key)
    assert bad_phone.status_code == 422 and "phone" in bad_phone.json()["error"]
    assert httpx.get(url, headers=key).status_code == 422
    other = httpx.get(f"{stack.api_url}/api/companies/111/bookings", params={"phone": "79001234567"}, headers=key)
    assert other.status_code == 404
    assert httpx.get(url, params={"phone": "79001234567"}, headers=key).json() == {"bookings": []}


def test_thanks_gets_a_heart_on_the_clients_message_and_no_text(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(**FROZEN)
    stack.start()
    phone = "79007770003"
    message_id = stack.client_writes(phone, "Спасибо!")
    wait_for(lambda: stack.outbox(phone), 60, "the reaction")
    outbox = stack.outbox(phone)
    assert [(item["kind"], item.get("emoji"), item.get("messageId")) for item in outbox] == [
        ("reaction", "❤️", message_id)
    ]


def test_on_yclients_a_visit_is_booked_moved_and_cancelled_in_the_backend(
    make_stack: Callable[..., Stack], standin: YClientsStandIn
) -> None:
    stack = make_stack(**yclients_env(standin))
    stack.start()
    phone = "79007770004"

    booked = say(stack, phone, "Запишите меня к Марии на маникюр в пятницу в 15:00", push_name="Ольга")
    assert "Вы записаны" in texts(booked)
    records = standin.records(phone=phone)
    assert [(r["services"][0]["id"], r["staff_id"], r["datetime"]) for r in records] == [
        (1005, 2002, "2026-11-27T15:00:00+03:00")
    ]
    assert bookings(stack, phone)[0]["datetime"] == "2026-11-27T15:00:00+03:00"

    moved = say(stack, phone, "Перенесите мою запись на четверг на 17:00")
    assert "перенесена" in texts(moved)
    assert [r["datetime"] for r in standin.records(phone=phone)] == ["2026-11-26T17:00:00+03:00"]

    cancelled = say(stack, phone, "Хочу отменить запись")
    assert "отменена" in texts(cancelled)
    assert standin.records(phone=phone) == []
    assert len(standin.records(phone=phone, with_deleted=True)) == 1


def test_on_yclients_a_refused_booking_is_never_reported_as_made(
    make_stack: Callable[..., Stack], standin: YClientsStandIn
) -> None:
    stack = make_stack(**yclients_env(standin))
    stack.start()
    phone = "79007770005"
    standin.fail_next("POST", "book_record", status=422)
    reply = texts(say(stack, phone, "Запишите меня к Марии на маникюр в пятницу в 15:00", push_name="Ольга"))
    assert "Вы записаны" not in reply
    assert "не создана" in reply
    assert standin.records(phone=phone) == []


def test_a_worker_killed_between_the_backends_created_and_the_reply_leaves_one_booking_and_one_confirmation(
    make_stack: Callable[..., Stack], standin: YClientsStandIn
) -> None:
    stack = make_stack(**yclients_env(standin), **QUICK_ABANDON)
    stack.start()
    phone = "79007770006"
    # YClients creates the record, then the answer is held back: the worker dies while waiting for it.
    standin.delay_after_commit("POST", "book_record", 120)
    stack.client_writes(phone, "Запишите меня к Марии на маникюр в пятницу в 15:00", push_name="Ольга")
    wait_for(lambda: standin.records(phone=phone), 60, "YClients to create the record")
    worker = stack.services["worker"]
    worker.kill()
    assert stack.outbox(phone) == []

    worker.start()
    stack.wait_ready("worker")
    # RQ finds the killed job abandoned and runs it again once the dead process's chat lock expires (30 s).
    wait_for(lambda: "Вы записаны" in texts(stack.outbox(phone)), 120, "the confirmation after the retry")
    wait_for(stack.at_rest, 60, "every job to finish, the abandoned one included")
    assert len(standin.records(phone=phone)) == 1
    assert texts(stack.outbox(phone)).count("Вы записаны") == 1
    posts = [entry for entry in standin.requests if entry.method == "POST" and entry.path.startswith("book_record")]
    assert len(posts) == 1, "the retry found the booking instead of booking again"
    worker_log = "\n".join(stack.log_lines("worker"))
    assert "Booking from an earlier attempt of this turn found; not booking again" in worker_log


def test_the_chat_tool_says_so_when_the_gateway_is_not_running(tmp_path: Any) -> None:
    env = {**os.environ, "WA_GATEWAY_PORT": "9", "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "services.wa_gateway.chat"],
        input="привет\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 1
    assert "does not answer" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_bookings_listing_is_a_503_naming_the_backend_when_yclients_is_down(
    make_stack: Callable[..., Stack],
) -> None:
    env = {
        **FROZEN,
        "BOOKING_BACKEND": "yclients",
        "YCLIENTS_API_URL": "http://127.0.0.1:9/api/v1",
        "YCLIENTS_PARTNER_TOKEN": "partner-token",
        "YCLIENTS_USER_TOKEN": "user-token",
        "YCLIENTS_TIMEOUT_SECONDS": "2",
    }
    stack = make_stack(**env)
    stack.start("api")
    response = httpx.get(
        f"{stack.api_url}/api/companies/962302/bookings",
        params={"phone": "79001234567"},
        headers={"x-api-key": API_KEY},
        timeout=30,
    )
    assert response.status_code == 503
    assert "yclients" in response.json()["error"].lower()
