"""The operator's page in a real browser (Debian's Chromium, driven by Playwright) against the real stack."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.services import Stack
from tests.support.waiting import wait_for

CHROMIUM = Path("/usr/bin/chromium")
CLIENT = "79001234567"
SEEN = 15_000
"""Milliseconds to wait for something to show: the page refreshes itself every 3 s."""

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: `make test` installs it (make test-deps, apt's chromium)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Moscow")
    yield context.new_page()
    context.close()


def texts_to_client(stack: Stack) -> list[str]:
    return [str(message["text"]) for message in stack.outbox(CLIENT) if message["kind"] == "text"]


def first_words(text: str) -> str:
    return text.strip().splitlines()[0][:30]


def test_the_owner_takes_a_chat_over_replies_and_hands_it_back(make_stack: Callable[..., Stack], page: Page) -> None:
    stack = make_stack()
    stack.start()
    stack.client_writes(CLIENT, "Хочу записаться на маникюр", push_name="Аня")
    wait_for(lambda: texts_to_client(stack), 60, "the bot's reply in the simulator's outbox")
    wait_for(stack.at_rest, 60, "the stack at rest")
    bot_reply = texts_to_client(stack)[0]

    page.goto(stack.gateway_url + "/")
    expect(page.locator("#status-headline")).to_contain_text("Connected as +7 999 000-00-00")
    row = page.locator(f'tr[data-chat="{CLIENT}"]')
    expect(row).to_contain_text("Аня")
    expect(row).to_contain_text("The AI answers")

    row.get_by_role("link", name="Аня").click()
    expect(page.locator('#transcript [data-author="client"]')).to_contain_text("Хочу записаться на маникюр")
    expect(page.locator('#transcript [data-author="bot"]').first).to_contain_text(first_words(bot_reply))
    expect(page.locator('#transcript [data-author="bot"] details.turn').first).to_contain_text("What the bot did")

    page.get_by_role("button", name="Take over").click()
    expect(page.locator("#who-answers")).to_contain_text("A person has it until")
    replies_by_bot = len(texts_to_client(stack))

    page.locator("textarea[name=text]").fill("Аня, здравствуйте! Это Мария, запишу вас сама.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator('#transcript [data-author="person"]')).to_contain_text("Это Мария, запишу вас сама")
    assert texts_to_client(stack)[replies_by_bot:] == ["Аня, здравствуйте! Это Мария, запишу вас сама."]

    page.get_by_role("button", name="Give back to the AI").click()
    expect(page.locator("#who-answers")).to_contain_text("The AI answers")

    before = len(texts_to_client(stack))
    stack.client_writes(CLIENT, "А в пятницу после обеда можно?")
    wait_for(lambda: len(texts_to_client(stack)) > before, 60, "the bot answering once the chat is handed back")
    answer = texts_to_client(stack)[before]
    # The open page shows the new exchange by itself, without a reload.
    expect(page.locator('#transcript [data-author="client"]').last).to_contain_text(
        "А в пятницу после обеда можно?", timeout=SEEN
    )
    expect(page.locator('#transcript [data-author="bot"]').last).to_contain_text(first_words(answer), timeout=SEEN)


def test_the_page_shows_each_new_qr_code_while_pairing(make_stack: Callable[..., Stack], page: Page) -> None:
    stack = make_stack()
    stack.start("wa-gateway")
    page.goto(stack.gateway_url + "/")
    expect(page.locator("#status-headline")).to_contain_text("Connected as")
    expect(page.locator("img#qr")).to_have_count(0)

    def emit(event: dict[str, str]) -> None:
        httpx.post(f"{stack.gateway_url}/simulator/event", json=event, timeout=10).raise_for_status()

    emit({"type": "qr", "qr": "2@first-simulated-code"})
    qr = page.locator("img#qr")
    expect(qr).to_be_visible(timeout=SEEN)
    expect(page.locator("#status-headline")).to_have_text("Waiting for a QR scan")
    assert qr.evaluate("image => image.complete && image.naturalWidth") > 0, "the QR image did not load"
    first = qr.get_attribute("src")

    emit({"type": "qr", "qr": "2@second-simulated-code"})
    expect(qr).not_to_have_attribute("src", first or "", timeout=SEEN)

    emit({"type": "connected"})
    expect(page.locator("#status-headline")).to_contain_text("Connected as", timeout=SEEN)
    expect(page.locator("img#qr")).to_have_count(0)
