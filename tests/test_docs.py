"""What the README and docs/configuration.md tell an operator is what the stack does."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from typing import Any

from tests.support.services import REPO_ROOT, Stack


def readme_block(containing: str) -> str:
    blocks = re.findall(r"```sh\n(.*?)```", (REPO_ROOT / "README.md").read_text(), re.DOTALL)
    matching: list[str] = [block for block in blocks if containing in block]
    assert len(matching) == 1, f"expected one sh block with {containing!r} in README.md"
    return matching[0]


def json_documents(text: str) -> list[Any]:
    """Each JSON answer curl printed, in order (curl adds no newline after a body)."""
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    position = 0
    while (start := text.find("{", position)) >= 0:
        document, position = decoder.raw_decode(text, start)
        documents.append(document)
    return documents


def test_the_readme_simulator_example_waits_for_the_reply_however_long_the_chat_must_stay_quiet(
    make_stack: Callable[..., Stack],
) -> None:
    # Longer than a fixed `sleep 10` in the example would wait: the example must wait for the reply itself.
    stack = make_stack(BATCH_IDLE_SECONDS="11")
    stack.start()
    commands = readme_block("/simulator/inbound").replace("127.0.0.1:3003", stack.gateway_url.removeprefix("http://"))
    result = subprocess.run(["bash", "-c", commands], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    outbox = json_documents(result.stdout)[-1]  # the example's last command shows the outbox
    replies = [message for message in outbox["messages"] if message["kind"] == "text"]
    assert replies, f"the example printed no reply:\n{result.stdout}"
    assert all(message["to"] == "79001234567" for message in replies)


def test_docs_configuration_names_the_journal_file_the_gateway_writes(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    stack.start("wa-gateway")
    journal = stack.root / "data" / "wa-gateway-962302.sqlite"
    assert journal.exists(), sorted(path.name for path in (stack.root / "data").iterdir())
    text = (REPO_ROOT / "docs" / "configuration.md").read_text()
    assert "`wa-gateway-<COMPANY_ID>.sqlite`" in text
    assert "`gateway-<COMPANY_ID>.sqlite`" not in text
