"""ai-admin as an operator runs it (``python -m services.cli``, its own process) against the real stack.

Its settings come from the stack's environment, and it runs in the stack's directory, never the repository's,
so a developer's ``.env`` can't leak in.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support.dialogues import CORPUS_NOW
from tests.support.replies import answered_batches, answered_once
from tests.support.services import Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

API_KEY = "an-api-key-for-the-cli-tests"
KEYED = {"API_KEY": API_KEY}


def ai_admin(stack: Stack, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env={**stack.services["api"].env, **env},
        cwd=stack.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def rows(output: str) -> dict[str, list[str]]:
    """status' table as {check: [state, detail]}."""
    found = {}
    for line in output.splitlines()[1:]:
        name, state, detail = re.split(r"\s{2,}", line, maxsplit=2)
        found[name] = [state, detail]
    return found


def say(stack: Stack, phone: str, text: str) -> None:
    batches = len(answered_batches(stack, phone))
    stack.client_writes(phone, text)
    wait_for(lambda: len(answered_batches(stack, phone)) > batches and answered_once(stack, phone), 60, "the answer")


def test_status_of_a_healthy_stack_is_all_ok_and_exit_0(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(**KEYED)
    stack.start()
    wait_for(lambda: ai_admin(stack, "status").returncode == 0, 30, "status to pass")
    healthy = ai_admin(stack, "status")
    table = rows(healthy.stdout)
    assert list(table) == ["gateway", "journal", "api", "whatsapp", "redis", "lease", "queue", "worker", "failed jobs"]
    assert {state for state, _ in table.values()} == {"ok"}, healthy.stdout
    assert table["whatsapp"][1].startswith("connected")
    assert stack.gateway_url in table["lease"][1] and stack.gateway_url in table["gateway"][1]
    assert table["queue"][1].startswith("company-962302-messages: 0 queued")
    # One RQ worker per worker process: WORKER_PROCESSES of them, 3 by default.
    assert table["worker"][1].startswith("3 listening")

    as_json = json.loads(ai_admin(stack, "status", "--json").stdout)
    assert as_json["ok"] is True
    assert as_json["lease"]["url"] == stack.gateway_url
    assert as_json["gateway"]["journal"]["backlog"] == 0


def test_status_fails_when_whatsapp_or_a_service_is_down_and_says_which(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(**KEYED)
    stack.start()
    wait_for(lambda: ai_admin(stack, "status").returncode == 0, 30, "status to pass")

    httpx.post(f"{stack.gateway_url}/simulator/event", json={"type": "logged_out"}, timeout=10).raise_for_status()
    logged_out = ai_admin(stack, "status")
    assert logged_out.returncode == 1
    state, detail = rows(logged_out.stdout)["whatsapp"]
    assert state == "FAIL" and "logged_out" in detail and "ai-admin pair" in detail

    reconnected = ai_admin(stack, "reconnect")
    assert reconnected.returncode == 0, reconnected.stderr
    assert reconnected.stdout.startswith("reconnect requested")
    wait_for(lambda: ai_admin(stack, "status").returncode == 0, 30, "WhatsApp to be connected again")

    stack.services["worker"].stop()
    stack.services["api"].stop()
    down = ai_admin(stack, "status")
    assert down.returncode == 1
    table = rows(down.stdout)
    assert table["api"][0] == "FAIL" and f"the api at {stack.api_url} does not answer" in table["api"][1]
    assert table["worker"] == ["FAIL", "no worker listens on company-962302-messages: nothing answers clients"]
    assert table["gateway"][0] == table["whatsapp"][0] == "ok"

    stack.services["wa-gateway"].stop()
    gone = rows(ai_admin(stack, "status").stdout)
    assert gone["gateway"][0] == "FAIL" and gone["whatsapp"][0] == "?"
    assert gone["lease"][0] == "FAIL", "a gateway that stopped gives its lease up"


def test_status_says_redis_is_down_without_hanging(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(**KEYED)
    result = ai_admin(stack, "status", REDIS_URL="redis://127.0.0.1:9/0")
    assert result.returncode == 1
    table = rows(result.stdout)
    assert table["redis"][0] == "FAIL" and table["lease"] == ["?", "unknown: Redis does not answer"]


def test_send_reaches_the_client_and_a_wrong_key_is_refused(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(**KEYED)
    stack.start("wa-gateway", "api")
    sent = ai_admin(stack, "send", "+7 900 123-45-67", "Ваша запись подтверждена")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith("sent to +79001234567, message id ")
    (item,) = stack.outbox("79001234567")
    assert item["text"] == "Ваша запись подтверждена"
    assert sent.stdout.split()[-1] == item["id"]

    refused = ai_admin(stack, "send", "79001234567", "again", API_KEY="not-the-key")
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"ai-admin: the api at {stack.api_url} refused the API key")
    assert len(stack.outbox("79001234567")) == 1

    bad_phone = ai_admin(stack, "send", "12", "hello")
    assert bad_phone.returncode == 1 and "phone" in bad_phone.stderr


def test_pair_on_the_simulator(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(**KEYED)
    stack.start("wa-gateway")
    connected = ai_admin(stack, "pair")
    assert connected.returncode == 0, connected.stderr
    assert connected.stdout.startswith("WhatsApp is already connected")

    httpx.post(f"{stack.gateway_url}/simulator/event", json={"type": "stream_replaced"}, timeout=10).raise_for_status()
    replaced = ai_admin(stack, "pair")
    assert replaced.returncode == 1 and "the session is replaced" in replaced.stderr

    httpx.post(f"{stack.gateway_url}/simulator/event", json={"type": "logged_out"}, timeout=10).raise_for_status()
    by_code = ai_admin(stack, "pair", "--code", "79990001122", "--once")
    assert by_code.returncode == 1
    assert "pairing by code needs WA_TRANSPORT=neonize" in by_code.stderr


def test_chat_talks_to_the_receptionist_through_the_simulator(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(**KEYED, CLOCK_FROZEN_AT=CORPUS_NOW.isoformat())
    stack.start()
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "chat", "--phone", "79007770009"],
        input="Сколько стоит маникюр?\n",
        env=stack.services["api"].env,
        cwd=stack.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "you: Сколько стоит маникюр?" in result.stdout
    assert "salon: " in result.stdout and "1800" in result.stdout


def test_an_operator_reads_a_booking_in_the_transcript_and_the_bookings(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(**KEYED, CLOCK_FROZEN_AT=CORPUS_NOW.isoformat())
    stack.start()
    phone = "79007770001"
    assert ai_admin(stack, "bookings", phone).stdout == f"no upcoming bookings for +{phone}\n"
    say(stack, phone, "Запишите меня к Марии на маникюр в пятницу в 15:00")
    say(stack, phone, "Меня зовут Ольга")

    listing = ai_admin(stack, "bookings", phone)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.splitlines()[1].split()[:6] == ["Fri", "2026-11-27", "15:00", "Маникюр", "Мария", "Иванова"]

    chats = json.loads(ai_admin(stack, "conversations", "--json").stdout)["conversations"]
    assert [(c["phone"], c["lastAuthor"], c["unanswered"]) for c in chats] == [(phone, "bot", False)]
    listed = ai_admin(stack, "conversations")
    assert listed.stdout.splitlines()[1].startswith(f"+{phone}")

    transcript = ai_admin(stack, "conversations", phone)
    assert transcript.returncode == 0, transcript.stderr
    lines = transcript.stdout.splitlines()
    assert lines[0].startswith(f"+{phone}")
    assert "< client   Запишите меня к Марии на маникюр в пятницу в 15:00" in transcript.stdout
    assert "> bot" in transcript.stdout
    assert any(line.strip().startswith("= CREATE_BOOKING(") and line.endswith("-> booked") for line in lines), (
        transcript.stdout
    )

    unknown = ai_admin(stack, "conversations", "79000000000")
    assert unknown.returncode == 1 and "no conversation with 79000000000" in unknown.stderr


def test_takeover_keeps_the_ai_quiet_while_a_person_answers_until_release(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(**KEYED, CLOCK_FROZEN_AT=CORPUS_NOW.isoformat())
    stack.start()
    phone = "79007770002"
    say(stack, phone, "Сколько стоит маникюр?")
    answered = len(stack.outbox(phone))

    taken = ai_admin(stack, "takeover", phone, "--minutes", "30")
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.startswith(f"the AI is paused in +{phone} until ")
    summary = json.loads(ai_admin(stack, "conversations", phone, "--json").stdout)["summary"]
    assert summary["aiPaused"] is True and summary["pausedBy"] == "operator"

    stack.client_writes(phone, "А можно с Марией в субботу?")
    wait_for(stack.at_rest, 60, "the stack to be at rest")
    assert len(stack.outbox(phone)) == answered, "the AI stays quiet in a chat a person has"
    held = ai_admin(stack, "conversations", phone)
    assert "А можно с Марией в субботу? [held: arrived while the AI was paused]" in held.stdout
    assert "UNANSWERED" in held.stdout.splitlines()[1]

    assert ai_admin(stack, "send", phone, "Да, Мария свободна в 12:00").returncode == 0
    assert stack.outbox(phone)[-1]["text"] == "Да, Мария свободна в 12:00"
    person = json.loads(ai_admin(stack, "conversations", phone, "--json").stdout)
    assert person["messages"][-1]["author"] == "person"
    assert person["summary"]["unanswered"] is False

    released = ai_admin(stack, "release", phone)
    assert released.returncode == 0 and released.stdout == f"the AI answers +{phone} again\n"
    assert json.loads(ai_admin(stack, "conversations", phone, "--json").stdout)["summary"]["aiPaused"] is False


def failed_jobs(stack: Stack) -> list[dict[str, Any]]:
    result = ai_admin(stack, "failed", "list", "--json")
    assert result.returncode == 0, result.stderr
    jobs: list[dict[str, Any]] = json.loads(result.stdout)["failed"]
    return jobs


def fail_the_reply_to(stack: Stack, phone: str, text: str) -> dict[str, Any]:
    """The client writes, the api stores it, then the gateway goes away: every retry of the reply fails."""
    stack.client_writes(phone, text)
    wait_for(lambda: stack.gateway_health()["journal"]["backlog"] == 0, 30, "the message to reach the api")
    stack.services["wa-gateway"].stop()
    if not stack.services["worker"].running:
        stack.start("worker")
    (job,) = wait_for(lambda: [job for job in failed_jobs(stack) if job["chat"] == phone], 60, "a failed job")
    return job


def test_failed_jobs_are_listed_requeued_and_purged_in_the_real_registry(
    make_stack: Callable[..., Stack], redis_client: Any
) -> None:
    stack = make_stack(**KEYED, CLOCK_FROZEN_AT=CORPUS_NOW.isoformat())
    stack.start("wa-gateway", "api")
    assert ai_admin(stack, "failed", "list").stdout == "no failed jobs on company-962302-messages\n"

    first = fail_the_reply_to(stack, "79007770003", "Сколько стоит маникюр?")
    assert "wa-gateway is down or unreachable" in first["error"]
    table = ai_admin(stack, "failed", "list")
    assert table.stdout.splitlines()[1].split()[:2] == [first["id"], "79007770003"]
    assert "1 failed on company-962302-messages" in table.stdout
    assert rows_of_status(stack)["failed jobs"] == ["WARN", "1: ai-admin failed list"]

    stack.start("wa-gateway")
    requeued = ai_admin(stack, "failed", "requeue", first["id"])
    assert requeued.returncode == 0, requeued.stderr
    assert requeued.stdout == f"requeued 1: {first['id']}\n"
    # Well before the kept batch's own retry (a minute after the failure): the requeued job answered it.
    wait_for(lambda: stack.outbox("79007770003"), 30, "the requeued job's reply")
    assert "1800" in stack.outbox("79007770003")[0]["text"]
    assert failed_jobs(stack) == []

    second = fail_the_reply_to(stack, "79007770004", "Сколько стоит педикюр?")
    missing = ai_admin(stack, "failed", "requeue", "no-such-job")
    assert missing.returncode == 1 and "not in the failed registry: no-such-job" in missing.stderr
    purged = ai_admin(stack, "failed", "purge", "--all")
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout == f"deleted 1: {second['id']}\n"
    assert failed_jobs(stack) == []
    assert not redis_client.exists(f"rq:job:{second['id']}"), "the job itself is gone, not just its registry entry"
    assert ai_admin(stack, "failed", "purge", "--all").stdout == "no failed jobs; nothing deleted\n"


def rows_of_status(stack: Stack) -> dict[str, list[str]]:
    return rows(ai_admin(stack, "status").stdout)
