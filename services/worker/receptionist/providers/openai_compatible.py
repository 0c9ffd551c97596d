"""``AI_PROVIDER=openai`` (and the ``deepseek``/``gemini`` presets): any OpenAI-compatible chat-completions server.

Non-streaming, through the ``openai`` SDK. The commands are offered as tools (names exactly as the
original's commands, JSON-schema parameters); each tool call runs through the executor and its
step goes back as the tool result; the model's final text is the reply. Any failure (timeout, 5xx,
429 after the SDK's retries, a malformed or unknown tool call, an empty answer) raises
``ProviderFailed``, and the turn is answered by the embedded provider.
"""

from __future__ import annotations

import json
import time
import weakref
from typing import Any

import openai

from services.worker.receptionist.commands import COMMAND_NAMES, Command, tool_definitions
from services.worker.receptionist.providers.prompt import system_prompt
from services.worker.receptionist.turn import ProviderFailed, Turn
from services.worker.settings import WorkerSettings
from shared.deadline import MIN_CALL_SECONDS, remaining
from shared.errors import TransientError
from shared.logging import get_logger
from shared.tls import tls_context

log = get_logger(__name__)

MAX_TOOL_ROUNDS = 5
HISTORY_LINES = 20
TEMPERATURE = 0.3
MAX_TOKENS = 1000
PLACEHOLDER_KEY = "not-needed"
FALLBACK_RESERVE_SECONDS = 15.0
"""Kept out of the LLM's share of a turn, for the embedded provider to answer if the LLM doesn't."""
RETRY_PAUSE_SECONDS = 1.0
"""Local servers (Ollama, vLLM) take any key, but the SDK refuses an empty one."""


class OpenAICompatibleProvider:
    def __init__(self, settings: WorkerSettings) -> None:
        self.name: str = settings.ai_provider
        self._model = settings.llm_model
        self._timeout = settings.ai_timeout_seconds
        self._attempts = settings.ai_max_retries + 1
        self._client = openai.OpenAI(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key or PLACEHOLDER_KEY,
            timeout=settings.ai_timeout_seconds,
            max_retries=0,  # retried in _complete, within the turn's deadline
            http_client=openai.DefaultHttpxClient(verify=tls_context()),
        )
        # The SDK closes a client it made itself when that is collected, not one handed to it: close ours likewise.
        weakref.finalize(self, self._client.close)

    def preload(self) -> None:
        """Load what the SDK otherwise loads on its first request (the chat resource, the modules that send and
        parse), without sending one: the worker's main process calls this so the forked processes share it."""
        _ = self._client.chat.completions  # a lazily loaded resource: touching it loads it
        import jiter  # noqa: F401, PLC0415 - the SDK's response parser, imported on the first answer
        import openai.pagination  # noqa: F401, PLC0415

    def respond(self, turn: Turn) -> str:
        try:
            bookings = turn.executor.backend.client_bookings(turn.phone)
        except TransientError:
            bookings = []
        messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt(turn, bookings)}]
        for line in turn.memory.history[-HISTORY_LINES:]:
            role = "user" if line.get("role") == "client" else "assistant"
            messages.append({"role": role, "content": str(line.get("text", ""))})
        messages.append({"role": "user", "content": turn.text})
        for _ in range(MAX_TOOL_ROUNDS):
            message = self._complete(messages)
            calls = message.tool_calls or []
            if not calls:
                text = (message.content or "").strip()
                if not text:
                    raise ProviderFailed("the model answered with no text")
                return text
            messages.append(
                {
                    "role": "assistant",
                    "content": message.content,
                    "tool_calls": [
                        {
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.function.name, "arguments": call.function.arguments},
                        }
                        for call in calls
                    ],
                }
            )
            for call in calls:
                command = self._command(call.function.name, call.function.arguments)
                step = turn.executor.run(command)
                result = {"outcome": step.outcome, **step.data}
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call.id,
                        "content": json.dumps(result, ensure_ascii=False, default=str),
                    }
                )
        raise ProviderFailed(f"no final answer after {MAX_TOOL_ROUNDS} rounds of tool calls")

    def _complete(self, messages: list[dict[str, Any]]) -> Any:
        """One completion, retried on 429, 5xx, timeouts and connection errors while the turn has time.

        Our own retries, not the SDK's: each attempt's timeout is cut to what the turn has left minus
        what the embedded fallback needs, so a hung LLM can never leave the client without an answer.
        """
        last_error = "no attempt"
        for attempt in range(self._attempts):
            left = remaining()
            budget = self._timeout if left is None else min(self._timeout, left - FALLBACK_RESERVE_SECONDS)
            if budget < MIN_CALL_SECONDS:
                raise ProviderFailed(f"no time left in this turn for the LLM ({last_error})")
            try:
                completion = self._client.chat.completions.create(  # type: ignore[call-overload]
                    model=self._model,
                    messages=messages,
                    tools=tool_definitions(),
                    tool_choice="auto",
                    temperature=TEMPERATURE,
                    max_tokens=MAX_TOKENS,
                    timeout=budget,
                )
            except openai.APITimeoutError:
                last_error = f"timed out after {budget:.0f} s"
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as error:
                last_error = f"{type(error).__name__}: {getattr(error, 'message', error)}"
            except openai.APIStatusError as error:
                raise ProviderFailed(f"answered {error.status_code}: {error.message}") from None
            except openai.APIError as error:
                raise ProviderFailed(f"{type(error).__name__}: {error}") from None
            else:
                if not completion.choices:
                    raise ProviderFailed("the model answered with no choices")
                return completion.choices[0].message
            if attempt + 1 < self._attempts:
                time.sleep(min(RETRY_PAUSE_SECONDS * 2**attempt, max(0.0, (remaining() or 60) - MIN_CALL_SECONDS)))
        raise ProviderFailed(last_error)

    @staticmethod
    def _command(name: str, arguments: str) -> Command:
        if name not in COMMAND_NAMES:
            raise ProviderFailed(f"unknown tool {name!r}")
        try:
            params = json.loads(arguments or "{}")
        except ValueError:
            raise ProviderFailed(f"malformed tool arguments for {name}") from None
        if not isinstance(params, dict):
            raise ProviderFailed(f"malformed tool arguments for {name}: not an object")
        return Command.model_validate({"name": name, "params": params})
