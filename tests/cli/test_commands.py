"""ai-admin in-process: help on every level, argument and configuration errors, and each command's HTTP
conversation against a stand-in server (what it asks, with which key, and how it reads the answer)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import Result

from services.cli import pairing
from services.cli.app import app
from tests.cli.conftest import FakeService, Request
from tests.support.ports import free_port

Cli = Callable[..., Result]
Fake = Callable[[], FakeService]

API_KEY = "cli-test-key"


def every_command() -> list[list[str]]:
    """Each command path, from the app itself, so a command added later is covered too."""
    from typer.main import get_command  # noqa: PLC0415

    found: list[list[str]] = [[]]

    def walk(command: Any, path: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            found.append([*path, name])
            walk(sub, [*path, name])

    walk(get_command(app), [])
    return found


def test_every_command_is_reachable_from_the_list() -> None:
    names = {" ".join(path) for path in every_command()}
    expected = {"status", "chat", "send", "pair", "reconnect", "conversations", "takeover", "release", "bookings"}
    assert expected | {"failed", "failed list", "failed requeue", "failed purge"} <= names


@pytest.mark.parametrize("path", every_command(), ids=lambda path: " ".join(path) or "ai-admin")
def test_every_level_has_help(cli: Cli, path: list[str]) -> None:
    result = cli(*path, "--help")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: ai-admin {' '.join(path)}".rstrip())
    first = result.stdout.split("\n\n")[1].strip()
    assert len(first) > 10, "each command says what it does"


def test_no_command_prints_the_list_of_commands(cli: Cli) -> None:
    result = cli()
    assert "Commands:" in result.output
    assert "failed" in result.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["send"], "Missing argument 'PHONE'"),
        (["send", "79001234567"], "Missing argument 'TEXT'"),
        (["send", "79001234567", "   "], "the message is empty"),
        (["takeover", "79001234567", "--minutes", "0"], "--minutes"),
        (["conversations", "--limit", "0"], "--limit"),
        (["failed", "requeue"], "give their ids"),
        (["failed", "purge", "abc", "--all"], "not both"),
        (["nonsense"], "No such command"),
    ],
)
def test_bad_arguments_exit_2_and_say_what_is_wrong(cli: Cli, args: list[str], says: str) -> None:
    result = cli(*args, env={"REDIS_URL": "redis://127.0.0.1:1/0", "API_PORT": str(free_port())})
    assert result.exit_code == 2, result.output
    assert says in result.stderr


def test_a_bad_setting_is_one_line_naming_the_variable(cli: Cli) -> None:
    result = cli("status", env={"COMPANY_ID": "not a company"})
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("ai-admin: configuration error: COMPANY_ID")


def test_help_works_even_with_a_broken_configuration(cli: Cli) -> None:
    assert cli("status", "--help", env={"COMPANY_ID": "not a company"}).exit_code == 0


def test_a_service_that_is_not_running_is_one_line_and_exit_1(cli: Cli) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = cli("--api-url", url, "send", "79001234567", "hello")
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"ai-admin: the api at {url} does not answer (ConnectError); is the stack running? (make start)\n"
    )


def test_a_wrong_api_key_is_named_as_such(cli: Cli, fake_service: Fake) -> None:
    api = fake_service()
    api.on("POST", "/api/whatsapp/sessions/962302/send", (401, {"success": False, "error": "wrong x-api-key header"}))
    result = cli("--api-url", api.url, "send", "79001234567", "hello", env={"API_KEY": "not-the-key"})
    assert result.exit_code == 1
    assert "refused the API key (wrong x-api-key header)" in result.stderr
    assert "API_KEY" in result.stderr
    assert api.requests[0].headers["x-api-key"] == "not-the-key"


def test_send_posts_a_persons_message_with_the_key_to_the_companys_proxy(cli: Cli, fake_service: Fake) -> None:
    api = fake_service()
    api.on(
        "POST",
        "/api/whatsapp/sessions/555/send",
        (200, {"success": True, "companyId": "555", "phone": "79001234567", "messageId": "M1", "timestamp": 1}),
    )
    result = cli("--api-url", api.url, "send", "+7 900 123-45-67", "Ваша запись подтверждена", env={
        "API_KEY": API_KEY, "COMPANY_ID": "555"
    })  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == "sent to +79001234567, message id M1\n"
    (request,) = api.requests
    assert request.body == {"phone": "+7 900 123-45-67", "message": "Ваша запись подтверждена", "author": "person"}
    assert request.headers["x-api-key"] == API_KEY


def test_a_refused_send_passes_the_services_reason_on(cli: Cli, fake_service: Fake) -> None:
    api = fake_service()
    api.on(
        "POST", "/api/whatsapp/sessions/962302/send", (503, {"success": False, "error": "WhatsApp is not connected"})
    )
    result = cli("--api-url", api.url, "send", "79001234567", "hi")
    assert result.exit_code == 1
    assert result.stderr == "ai-admin: the api answered 503: WhatsApp is not connected\n"


# --- pairing --------------------------------------------------------------------------------------


def gateway_in_states(fake: FakeService, *states: dict[str, Any]) -> None:
    """/health answers each state in turn, then stays on the last; /qr.txt shows a QR while the state says qr."""
    remaining = list(states)

    def health(_request: Request) -> tuple[int, Any]:
        state = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        fake.current = state  # type: ignore[attr-defined]
        return 200, {"service": "wa-gateway", "connected": False, "reason": None, **state}

    def qr(_request: Request) -> tuple[int, Any]:
        state = getattr(fake, "current", {})
        if state.get("status") == "qr":
            return 200, f"QR<{state.get('qr')}>\n"
        return 404, {"success": False, "error": f"no QR code to show (status: {state.get('status')})"}

    fake.on("GET", "/health", health)
    fake.on("GET", "/qr.txt", qr)
    fake.on("POST", "/reconnect", (200, {"success": True, "status": "connecting"}))


def test_pair_shows_each_new_qr_once_until_the_phone_connects(
    cli: Cli, fake_service: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pairing, "POLL_SECONDS", 0.01)
    gateway = fake_service()
    gateway_in_states(
        gateway,
        {"status": "connecting"},
        {"status": "connecting"},
        {"status": "qr", "qr": "first"},
        {"status": "qr", "qr": "first"},
        {"status": "qr", "qr": "second"},
        {"status": "paired"},
        {"status": "connected", "connected": True, "phoneNumber": "79990001122"},
    )
    result = cli("--gateway-url", gateway.url, "pair", env={"API_KEY": API_KEY})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.count("QR<first>") == 1 and out.count("QR<second>") == 1
    assert out.index("QR<first>") < out.index("QR<second>") < out.index("Connected as +79990001122.")
    assert "Linked devices" in out
    assert all(r.headers.get("x-api-key") == API_KEY for r in gateway.requests if r.path == "/qr.txt")
    assert not [r for r in gateway.requests if r.path == "/reconnect"]


def test_pair_starts_a_new_pairing_from_an_expired_qr(
    cli: Cli, fake_service: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pairing, "POLL_SECONDS", 0.01)
    gateway = fake_service()
    gateway_in_states(
        gateway,
        {"status": "qr_expired"},
        {"status": "qr", "qr": "fresh"},
        {"status": "connected", "connected": True, "phoneNumber": "79990001122"},
    )
    result = cli("--gateway-url", gateway.url, "pair")
    assert result.exit_code == 0, result.output
    assert "starting a new pairing" in result.stdout and "QR<fresh>" in result.stdout
    assert [r.path for r in gateway.requests if r.method == "POST"] == ["/reconnect"]


@pytest.mark.parametrize("status", ["replaced", "banned", "standby"])
def test_pair_refuses_a_session_that_a_new_pairing_would_not_fix(cli: Cli, fake_service: Fake, status: str) -> None:
    gateway = fake_service()
    gateway_in_states(gateway, {"status": status})
    result = cli("--gateway-url", gateway.url, "pair")
    assert result.exit_code == 1
    assert result.stderr.startswith("ai-admin: ") and result.stderr.count("\n") == 1
    assert not [r for r in gateway.requests if r.method == "POST"]


def test_pair_gives_up_after_its_timeout(cli: Cli, fake_service: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pairing, "POLL_SECONDS", 0.01)
    gateway = fake_service()
    gateway_in_states(gateway, {"status": "connecting"})
    started = time.monotonic()
    result = cli("--gateway-url", gateway.url, "pair", "--timeout", "0.2")
    assert result.exit_code == 1
    assert "not connected after 0.2 s (status: connecting)" in result.stderr
    assert time.monotonic() - started < 10


def test_pair_by_code_prints_the_code_for_the_phone(cli: Cli, fake_service: Fake) -> None:
    gateway = fake_service()
    gateway_in_states(gateway, {"status": "qr", "qr": "unused"})
    gateway.on("POST", "/pair", (200, {"success": True, "code": "ABCD-EFGH", "phone": "79990001122"}))
    result = cli("--gateway-url", gateway.url, "pair", "--code", "+7 999 000-11-22", "--once", env={"API_KEY": API_KEY})
    assert result.exit_code == 0, result.output
    assert "Pairing code for +79990001122:  ABCD-EFGH" in result.stdout
    (pair,) = [r for r in gateway.requests if r.path == "/pair"]
    assert pair.body == {"phone": "+7 999 000-11-22"} and pair.headers["x-api-key"] == API_KEY


def test_pair_once_prints_the_current_qr(cli: Cli, fake_service: Fake) -> None:
    gateway = fake_service()
    gateway_in_states(gateway, {"status": "qr", "qr": "now"})
    result = cli("--gateway-url", gateway.url, "pair", "--once")
    assert result.exit_code == 0
    assert result.stdout.startswith("QR<now>")


# --- conversations (the api's contract) -----------------------------------------------------------

NOW_MS = int(time.time() * 1000)

SUMMARY = {
    "phone": "79001112233",
    "name": "Ольга",
    "lastMessage": "Вы записаны на маникюр в пятницу, 27 ноября, в 15:00",
    "lastAuthor": "bot",
    "lastAt": NOW_MS - 120_000,
    "unanswered": False,
    "waiting": 0,
    "aiPaused": False,
    "pausedUntil": None,
    "pausedBy": None,
}
PAUSED = {
    **SUMMARY,
    "phone": "79004445566",
    "name": None,
    "lastMessage": "а можно\nпозже?",
    "lastAuthor": "client",
    "unanswered": True,
    "waiting": 2,
    "aiPaused": True,
    "pausedUntil": NOW_MS + 3_600_000,
    "pausedBy": "operator",
}


def test_conversations_lists_chats_with_their_state(cli: Cli, fake_service: Fake) -> None:
    api = fake_service()
    # Ages are relative to the moment the command runs, not to when this module was imported.
    two_minutes_ago = {**SUMMARY, "lastAt": int(time.time() * 1000) - 120_000}
    api.on("GET", "/api/conversations", (200, {"success": True, "conversations": [two_minutes_ago, PAUSED]}))
    result = cli("--api-url", api.url, "conversations", "--limit", "7", env={"API_KEY": API_KEY})
    assert result.exit_code == 0, result.output
    header, first, second = result.stdout.splitlines()
    assert header.split() == ["PHONE", "NAME", "LAST", "WHO", "STATE", "MESSAGE"]
    assert first.startswith("+79001112233") and "Ольга" in first and "(2m ago)" in first and " ok " in first
    assert "UNANSWERED, 2 held, paused till " in second
    assert "а можно позже?" in second, "a message is squeezed onto its line"
    assert api.requests[0].query == "limit=7" and api.requests[0].headers["x-api-key"] == API_KEY


def test_conversations_json_is_the_apis_answer(cli: Cli, fake_service: Fake) -> None:
    import json  # noqa: PLC0415

    api = fake_service()
    body = {"success": True, "conversations": [SUMMARY]}
    api.on("GET", "/api/conversations", (200, body))
    result = cli("--api-url", api.url, "conversations", "--json")
    assert json.loads(result.stdout) == body


def test_a_transcript_shows_who_wrote_what_and_the_turns_commands(cli: Cli, fake_service: Fake) -> None:
    api = fake_service()
    turn = {
        "batchId": "b1",
        "provider": "embedded",
        "at": NOW_MS,
        "commands": [
            {"name": "CREATE_BOOKING", "params": {"service": "Маникюр", "staff": "Мария"}, "outcome": "booked"}
        ],
    }
    messages = [
        {"direction": "in", "author": "client", "kind": "text", "text": "Запишите на маникюр", "at": NOW_MS - 60_000,
         "messageId": "W1", "batchId": None, "inReplyTo": None, "held": False, "turn": None},
        {"direction": "out", "author": "bot", "kind": "text", "text": "Вы записаны", "at": NOW_MS - 50_000,
         "messageId": "S1", "batchId": "b1", "inReplyTo": "W1", "held": False, "turn": turn},
        {"direction": "in", "author": "client", "kind": "text", "text": "спасибо", "at": NOW_MS,
         "messageId": "W2", "batchId": None, "inReplyTo": None, "held": True, "turn": None},
        {"direction": "out", "author": "person", "kind": "text", "text": "Ждём вас!", "at": NOW_MS,
         "messageId": "S2", "batchId": None, "inReplyTo": None, "held": False, "turn": None},
    ]  # fmt: skip
    api.on(
        "GET",
        "/api/conversations/79001112233",
        (200, {"success": True, "phone": "79001112233", "summary": PAUSED, "messages": messages}),
    )
    result = cli("--api-url", api.url, "conversations", "79001112233")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "+79001112233  Ольга" or lines[0].startswith("+79001112233")
    assert "AI paused until" in lines[1]
    assert "< client" in lines[2] and lines[2].endswith("Запишите на маникюр")
    assert "> bot" in lines[3] and lines[3].endswith("Вы записаны")
    assert lines[4].strip() == "= CREATE_BOOKING(service=Маникюр, staff=Мария) -> booked"
    assert "held" in lines[5] and "> person" in lines[6]
    assert api.requests[0].query == "limit=30"


def test_an_unknown_chat_is_one_line_and_exit_1(cli: Cli, fake_service: Fake) -> None:
    api = fake_service()
    result = cli("--api-url", api.url, "conversations", "+7 900 000-00-00")
    assert result.exit_code == 1
    assert "no route /api/conversations/%2B7%20900%20000-00-00" in result.stderr, "the phone is one path segment"


def test_takeover_and_release_post_to_the_chat(cli: Cli, fake_service: Fake) -> None:
    api = fake_service()
    until = NOW_MS + 30 * 60_000
    api.on(
        "POST",
        "/api/conversations/79001112233/takeover",
        (200, {"success": True, "phone": "79001112233", "pausedUntil": until}),
    )
    api.on("POST", "/api/conversations/79001112233/release", (200, {"success": True, "phone": "79001112233"}))
    taken = cli("--api-url", api.url, "takeover", "79001112233", "--minutes", "30")
    assert taken.exit_code == 0, taken.output
    assert "the AI is paused in +79001112233 until" in taken.stdout
    default = cli("--api-url", api.url, "takeover", "79001112233")
    released = cli("--api-url", api.url, "release", "79001112233")
    assert released.stdout == "the AI answers +79001112233 again\n"
    assert [r.body for r in api.requests] == [{"minutes": 30}, {}, None]
    assert default.exit_code == 0


def test_forget_deletes_the_chat_through_the_api_after_asking(cli: Cli, fake_service: Fake) -> None:
    api = fake_service()
    api.on(
        "DELETE",
        "/api/conversations/79001112233",
        (200, {"success": True, "phone": "79001112233", "messagesDeleted": 12, "memoryKeysDeleted": 3}),
    )
    declined = cli("--api-url", api.url, "forget", "79001112233", input="n\n")
    assert declined.exit_code == 1
    assert api.requests == []
    forgotten = cli("--api-url", api.url, "forget", "79001112233", "--yes")
    assert forgotten.exit_code == 0, forgotten.output
    assert forgotten.stdout == "forgot +79001112233: 12 messages, 3 memory keys\n"
    assert [(r.method, r.path) for r in api.requests] == [("DELETE", "/api/conversations/79001112233")]


def test_bookings_lists_a_clients_bookings(cli: Cli, fake_service: Fake) -> None:
    api = fake_service()
    booking = {
        "id": "17",
        "service_id": "1",
        "service": "Маникюр",
        "staff_id": "2",
        "staff": "Мария Иванова",
        "datetime": "2026-11-27T15:00:00+03:00",
        "status": "booked",
    }
    api.on("GET", "/api/companies/962302/bookings", (200, {"bookings": [booking]}))
    result = cli("--api-url", api.url, "bookings", "79001112233")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split() == [
        "Fri",
        "2026-11-27",
        "15:00",
        "Маникюр",
        "Мария",
        "Иванова",
        "booked",
        "17",
    ]
    assert api.requests[0].query == "phone=79001112233"
    api.on("GET", "/api/companies/962302/bookings", (200, {"bookings": []}))
    assert cli("--api-url", api.url, "bookings", "79001112233").stdout == "no upcoming bookings for +79001112233\n"
