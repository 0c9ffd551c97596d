"""The operator's page over HTTP, against a real gateway process with the simulator transport."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from shared.conversations import Author, ChatSummary, ConversationStore, conversations_path
from tests.support.services import Stack
from tests.support.waiting import wait_for

CLIENT = "79001234567"
API_KEY = "operator-page-test-key-" + "k" * 16


class Browser:
    """What a browser does with the page: keeps its cookie, sends its own Origin on every form."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.origin = stack.gateway_url
        self.client = httpx.Client(base_url=stack.gateway_url, timeout=10)

    def get(self, path: str, **headers: str) -> httpx.Response:
        return self.client.get(path, headers=headers)

    def csrf(self, path: str = "/") -> str:
        page = self.get(path)
        assert page.status_code == 200, page.text
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert found, f"no CSRF field on {path}"
        return found.group(1)

    def post(self, path: str, data: dict[str, str], origin: str | None = "self") -> httpx.Response:
        headers = {} if origin is None else {"origin": self.origin if origin == "self" else origin}
        return self.client.post(path, data=data, headers=headers)

    def close(self) -> None:
        self.client.close()


def said(response: httpx.Response) -> str:
    """The page's text as the owner reads it (the template escapes quotes)."""
    return html.unescape(response.text)


def conversations(stack: Stack) -> ConversationStore:
    return ConversationStore(conversations_path(Path(stack.services["wa-gateway"].env["DATA_DIR"]), "962302"))


def summary(stack: Stack, chat: str = CLIENT) -> ChatSummary:
    store = conversations(stack)
    try:
        found = store.summary(chat)
    finally:
        store.close()
    assert found is not None
    return found


def client_wrote(stack: Stack, text: str = "Можно записаться на стрижку?") -> None:
    stack.client_writes(CLIENT, text, push_name="Аня")
    wait_for(lambda: conversations(stack).summary(CLIENT), 10, "the client's message in the transcript")


@pytest.fixture
def gateway(make_stack: Callable[..., Stack]) -> Iterator[Stack]:
    stack = make_stack()
    stack.start("wa-gateway")
    yield stack


@pytest.fixture
def browser(gateway: Stack) -> Iterator[Browser]:
    browser = Browser(gateway)
    yield browser
    browser.close()


def test_the_page_says_connected_and_lists_a_clients_conversation(gateway: Stack, browser: Browser) -> None:
    page = browser.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Connected as +7 999 000-00-00" in page.text
    assert "No conversations yet" in page.text

    client_wrote(gateway)
    page = browser.get("/ui")
    assert page.status_code == 200
    assert 'data-chat="79001234567"' in page.text
    assert "Аня" in page.text
    assert "Можно записаться на стрижку?" in page.text
    assert "not answered yet" in page.text
    last_in = re.search(r'<dd id="last-in">(.*?)</dd>', page.text, re.S)
    assert last_in is not None and "+7 900 123-45-67" in last_in.group(1)
    # Clients' conversations are personal: not cached, not framed, no script from elsewhere.
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_takeover_and_release_switch_the_ai_for_that_chat(gateway: Stack, browser: Browser) -> None:
    client_wrote(gateway)
    token = browser.csrf()

    before = int(time.time() * 1000)
    taken = browser.post(f"/ui/chats/{CLIENT}/takeover", {"csrf": token, "back": "list"})
    assert taken.status_code == 303
    assert taken.headers["location"] == "/"
    paused = summary(gateway)
    assert paused.ai_paused
    assert paused.paused_by == "operator page"
    # The default length is HUMAN_TAKEOVER_MINUTES (60 unless set).
    assert paused.paused_until is not None
    assert before + 60 * 60_000 <= paused.paused_until <= int(time.time() * 1000) + 60 * 60_000
    assert "A person has it until" in browser.get("/").text

    released = browser.post(f"/ui/chats/{CLIENT}/release", {"csrf": token, "back": "chat"})
    assert released.status_code == 303
    assert released.headers["location"] == f"/ui/chats/{CLIENT}"
    assert not summary(gateway).ai_paused
    assert "The AI answers" in browser.get(f"/ui/chats/{CLIENT}").text

    browser.post("/ui/chats/+7 (900) 123-45-67/takeover", {"csrf": token, "minutes": "15"})
    paused = summary(gateway)
    assert paused.paused_until is not None
    assert paused.paused_until <= int(time.time() * 1000) + 15 * 60_000


def test_a_reply_from_the_page_reaches_the_client_once_as_a_persons(gateway: Stack, browser: Browser) -> None:
    client_wrote(gateway)
    page = browser.get(f"/ui/chats/{CLIENT}")
    assert page.status_code == 200
    token = browser.csrf(f"/ui/chats/{CLIENT}")
    submit = re.search(r'name="submit_token" value="([0-9a-f]+)"', page.text)
    assert submit is not None
    form = {"csrf": token, "submit_token": submit.group(1), "text": "Здравствуйте, Аня!\r\nЗапишу вас сама."}

    first = browser.post(f"/ui/chats/{CLIENT}/reply", form)
    assert first.status_code == 303, first.text
    assert first.headers["location"] == f"/ui/chats/{CLIENT}"
    second = browser.post(f"/ui/chats/{CLIENT}/reply", form)  # a double click, or a resent form
    assert second.status_code == 303

    sent = gateway.outbox(CLIENT)
    assert [message["text"] for message in sent] == ["Здравствуйте, Аня!\nЗапишу вас сама."]
    store = conversations(gateway)
    try:
        transcript = store.transcript(CLIENT)
    finally:
        store.close()
    assert [(entry.author, entry.text) for entry in transcript] == [
        (Author.CLIENT, "Можно записаться на стрижку?"),
        (Author.PERSON, "Здравствуйте, Аня!\nЗапишу вас сама."),
    ]
    assert transcript[1].message_id == sent[0]["id"]
    shown = browser.get(f"/ui/partials/chats/{CLIENT}").text
    assert 'data-author="person"' in shown
    assert "Salon (a person)" in shown
    last_out = re.search(r'<dd id="last-out">(.*?)</dd>', browser.get("/").text, re.S)
    assert last_out is not None
    assert "by a person" in " ".join(last_out.group(1).split())
    assert "Здравствуйте, Аня!" in last_out.group(1)

    # A new form is a new message, even with the same words.
    again = browser.get(f"/ui/chats/{CLIENT}")
    other = re.search(r'name="submit_token" value="([0-9a-f]+)"', again.text)
    assert other is not None and other.group(1) != submit.group(1)
    browser.post(f"/ui/chats/{CLIENT}/reply", {**form, "submit_token": other.group(1)})
    assert len(gateway.outbox(CLIENT)) == 2


def test_a_form_without_the_pages_token_or_from_elsewhere_is_refused(gateway: Stack, browser: Browser) -> None:
    client_wrote(gateway)
    token = browser.csrf()
    takeover = f"/ui/chats/{CLIENT}/takeover"

    wrong_token = browser.post(takeover, {"csrf": "0" * 64})
    assert wrong_token.status_code == 403
    assert "Reload the page" in wrong_token.text
    assert browser.post(takeover, {}).status_code == 403
    other_site = browser.post(takeover, {"csrf": token}, origin="http://evil.example")
    assert other_site.status_code == 403
    assert "This form did not come from the operator's page" in said(other_site)
    assert browser.post(takeover, {"csrf": token}, origin=None).status_code == 403
    # Another browser's token does not work with this browser's cookie.
    stranger = Browser(gateway)
    try:
        assert stranger.post(takeover, {"csrf": token}).status_code == 403
        assert stranger.post("/ui/reconnect", {"csrf": token}).status_code == 403
        submit = {"csrf": token, "submit_token": "a" * 32, "text": "spam"}
        assert stranger.post(f"/ui/chats/{CLIENT}/reply", submit).status_code == 403
    finally:
        stranger.close()
    assert not summary(gateway).ai_paused
    assert gateway.outbox() == []

    # The same form from this page itself, with its Referer instead of an Origin, is done.
    accepted = browser.client.post(takeover, data={"csrf": token}, headers={"referer": f"{browser.origin}/"})
    assert accepted.status_code == 303
    assert summary(gateway).ai_paused


def test_a_loopback_page_answers_only_to_a_loopback_host_name(gateway: Stack, browser: Browser) -> None:
    # A site the owner visits may point its own name at 127.0.0.1 (DNS rebinding); it must get nothing.
    rebound = browser.get("/", host="evil.example")
    assert rebound.status_code == 403
    assert "Open this page by its own address" in rebound.text
    assert browser.get("/", host=f"localhost:{gateway.gateway_port}").status_code == 200


BAD_FORMS = [
    (f"/ui/chats/{CLIENT}/takeover", {"minutes": "abc"}, 400, "Minutes must be a whole number"),
    (f"/ui/chats/{CLIENT}/takeover", {"minutes": "0"}, 400, "Minutes must be a whole number"),
    (f"/ui/chats/{CLIENT}/takeover", {"minutes": "99999999999999999999"}, 400, "Minutes must be"),
    ("/ui/chats/12/takeover", {}, 400, "not a valid phone number"),
    ("/ui/chats/79001112233/takeover", {}, 404, "There is no conversation with +7 900 111-22-33"),
    ("/ui/chats/79001112233/release", {}, 404, "There is no conversation"),
    (f"/ui/chats/{CLIENT}/reply", {"submit_token": "a" * 32, "text": "  \r\n "}, 400, "Type a message first"),
    (f"/ui/chats/{CLIENT}/reply", {"submit_token": "a" * 32, "text": "x" * 4097}, 400, "at most 4096"),
    (f"/ui/chats/{CLIENT}/reply", {"submit_token": "a" * 32, "text": "bell\x07"}, 400, "control character"),
    (f"/ui/chats/{CLIENT}/reply", {"submit_token": "../../x", "text": "hi"}, 400, "send token"),
    (f"/ui/chats/{CLIENT}/reply", {"text": "hi"}, 400, "send token"),
    ("/ui/chats/79001112233/reply", {"submit_token": "a" * 32, "text": "hi"}, 404, "There is no conversation"),
    ("/ui/pair", {"phone": "not a phone"}, 400, "has no digits"),
    ("/ui/pair", {"phone": "+7 999 000 00 00"}, 409, "needs WA_TRANSPORT=neonize"),
]


def test_bad_form_input_is_a_page_that_says_what_is_wrong(gateway: Stack, browser: Browser) -> None:
    client_wrote(gateway)
    token = browser.csrf()
    for path, form, status, says in BAD_FORMS:
        response = browser.post(path, {"csrf": token, **form})
        assert (response.status_code, path, form) == (status, path, form)
        assert response.headers["content-type"].startswith("text/html")
        assert says in said(response), (path, form, said(response))
    assert gateway.outbox() == []
    assert not summary(gateway).ai_paused


def test_a_reply_that_fails_keeps_the_text_typed(gateway: Stack, browser: Browser) -> None:
    client_wrote(gateway)
    token = browser.csrf()
    browser.client.post("/simulator/event", json={"type": "stream_replaced"})
    response = browser.post(
        f"/ui/chats/{CLIENT}/reply", {"csrf": token, "submit_token": "b" * 32, "text": "Ваша запись на 15:00"}
    )
    assert response.status_code == 503
    assert "Not sent: WhatsApp is not connected" in response.text
    assert ">Ваша запись на 15:00</textarea>" in response.text
    assert 'value="' + "b" * 32 + '"' in response.text
    assert gateway.outbox() == []


def test_garbage_instead_of_a_form_is_a_400_page(gateway: Stack, browser: Browser) -> None:
    response = browser.client.post(
        f"/ui/chats/{CLIENT}/takeover",
        content=b"--x\r\nContent-Disposition: form-data; name=csrf\r\n\r\nno end",
        headers={"content-type": "multipart/form-data; boundary=x", "origin": browser.origin},
    )
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("text/html")


def test_the_status_shows_each_new_qr_code_and_the_reconnect_button_works(gateway: Stack, browser: Browser) -> None:
    def status() -> str:
        response = browser.get("/ui/partials/status")
        assert response.status_code == 200
        return response.text

    def qr_image(html: str) -> str:
        found = re.search(r'<img class="qr" id="qr" src="(data:image/svg\+xml[^"]+)"', html)
        assert found, "no QR image on the page"
        return found.group(1)

    browser.client.post("/simulator/event", json={"type": "qr", "qr": "2@first-code"})
    first = status()
    assert "Waiting for a QR scan" in first
    browser.client.post("/simulator/event", json={"type": "qr", "qr": "2@second-code"})
    second = status()
    assert qr_image(first) != qr_image(second)
    assert qr_image(second) in browser.get("/").text

    browser.client.post("/simulator/event", json={"type": "stream_replaced"})
    replaced = status()
    assert "Replaced by another device" in replaced
    assert 'id="qr"' not in replaced

    reconnected = browser.post("/ui/reconnect", {"csrf": browser.csrf()})
    assert reconnected.status_code == 303
    wait_for(lambda: gateway.gateway_health()["status"] == "connected", 10, "the session to reconnect")
    assert "Connected as +7 999 000-00-00" in status()


def test_beyond_loopback_the_page_needs_the_api_key(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(WA_GATEWAY_HOST="0.0.0.0", API_KEY=API_KEY)
    stack.start("wa-gateway")
    client_wrote(stack)
    browser = Browser(stack)
    try:
        page = browser.get("/")
        assert page.status_code == 303
        assert page.headers["location"] == "/ui/login"
        assert browser.get("/ui/partials/chats").status_code == 401
        assert browser.get(f"/ui/chats/{CLIENT}").status_code == 303
        assert "Аня" not in browser.get("/ui/partials/chats").text

        token = browser.csrf("/ui/login")
        # Not logged in: even a form with the login page's own token changes nothing.
        assert browser.post(f"/ui/chats/{CLIENT}/takeover", {"csrf": token}).status_code == 401
        assert browser.post("/ui/login", {"key": API_KEY}).status_code == 403  # no CSRF token
        wrong = browser.post("/ui/login", {"csrf": token, "key": "guess"})
        assert wrong.status_code == 401
        assert "That is not the gateway's API key" in said(wrong)

        # A cookie of the right shape but not made with the key is no login.
        forged = httpx.Client(base_url=stack.gateway_url, timeout=10)
        forged.cookies.set("wa_operator", f"{'a' * 32}.{int(time.time()) + 3600}.{'0' * 64}")
        assert forged.get("/").status_code == 303
        forged.close()

        logged_in = browser.post("/ui/login", {"csrf": token, "key": API_KEY})
        assert logged_in.status_code == 303
        cookie = next(h for h in logged_in.headers.get_list("set-cookie") if h.startswith("wa_operator="))
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        assert API_KEY not in cookie
        page = browser.get("/")
        assert page.status_code == 200
        assert "Аня" in page.text

        # The session id changed at login, so the token of the page before it is dead.
        assert browser.post(f"/ui/chats/{CLIENT}/takeover", {"csrf": token}).status_code == 403
        assert browser.post(f"/ui/chats/{CLIENT}/takeover", {"csrf": browser.csrf()}).status_code == 303
        assert summary(stack).ai_paused

        assert browser.post("/ui/logout", {"csrf": browser.csrf()}).status_code == 303
        assert browser.get("/").status_code == 303
    finally:
        browser.close()
    assert API_KEY not in stack.services["wa-gateway"].output()
    assert API_KEY not in (stack.root / "log" / "wa-gateway.json.log").read_text()


def test_beyond_loopback_without_an_api_key_the_page_is_off(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(WA_GATEWAY_HOST="0.0.0.0")
    stack.start("wa-gateway")
    client_wrote(stack)
    browser = Browser(stack)
    try:
        for path in ("/", "/ui/login", "/ui/partials/chats", f"/ui/chats/{CLIENT}"):
            response = browser.get(path)
            assert response.status_code == 403
            assert "The operator's page is off" in said(response)
            assert "Аня" not in response.text
    finally:
        browser.close()
