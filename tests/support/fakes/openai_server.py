"""A scripted OpenAI-compatible chat-completions server: real HTTP on 127.0.0.1, one scripted reply per request.

Faithful to the subset the project's ``openai`` provider relies on, as DeepSeek, OpenAI, Gemini's OpenAI endpoint,
vLLM and Ollama serve it:

- ``POST /v1/chat/completions``, non-streaming: the response carries ``id``, ``object``, ``created``, ``model``
  (echoed from the request), one choice with an assistant ``message`` (``content`` may be null; ``tool_calls`` only
  when there are some, ``arguments`` always a JSON *string*), ``finish_reason`` and ``usage``.
- ``GET /v1/models`` lists the one configured model.
- Errors are ``{"error": {"message", "type", "param", "code"}}`` with the HTTP status, so the SDK raises its own
  classes (``BadRequestError``, ``AuthenticationError``, ``RateLimitError``, ``InternalServerError``...).
- ``Authorization: Bearer <key>`` is checked on every route; a missing or wrong key is a 401 ``invalid_api_key``.
- The request is checked the way real servers reject it with a 400: a ``model`` string, a non-empty ``messages``
  list with known roles, well-formed ``tools``, ``tool_choice`` only with ``tools``, assistant ``tool_calls`` with
  string ``arguments``, and every tool call answered by a ``tool`` message before the conversation goes on (and no
  ``tool`` message answering nothing). Providers that get this wrong fail here as they would in production.

Not faithful: streaming (``stream: true`` is a 400 here), ``n > 1``, logprobs, images and audio are not served;
other unknown fields are accepted, recorded and ignored; ``usage`` is a deterministic estimate (about four
characters a token), not a tokenizer's count.

A request that passes auth and parses as a JSON object is recorded in ``requests``; only a request that also passes
the 400 checks consumes a scripted reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["Reply", "ScriptedOpenAI", "ToolCall"]


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any] | str  # a str is sent verbatim, so a test can send malformed JSON arguments
    id: str | None = None  # None: the server assigns "call_fake_<n>_<i>", unique until reset()


class Reply:
    """One scripted answer. Build it with the static constructors; the subclasses are private."""

    __slots__ = ()

    @staticmethod
    def text(content: str, *, finish_reason: str = "stop") -> Reply:
        # finish_reason="length" imitates an answer cut off by max_tokens.
        return _Completion(content=content, calls=(), finish_reason=finish_reason)

    @staticmethod
    def tool_calls(*calls: ToolCall, content: str | None = None) -> Reply:
        if not calls:
            raise ValueError("Reply.tool_calls needs at least one ToolCall")
        return _Completion(content=content, calls=calls, finish_reason="tool_calls")

    @staticmethod
    def error(
        status: int,
        message: str = "scripted failure",
        type: str = "server_error",
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        # Anything outside 4xx/5xx would be parsed by the SDK as a success or a redirect, not as an error.
        if not 400 <= status <= 599:
            raise ValueError(f"Reply.error needs a 4xx or 5xx status, got {status}")
        return _Failure(status=status, message=message, type=type, code=code, headers=tuple((headers or {}).items()))

    @staticmethod
    def delayed(seconds: float, then: Reply) -> Reply:
        if seconds < 0:
            raise ValueError(f"Reply.delayed needs a non-negative delay, got {seconds}")
        return _Delayed(seconds=seconds, then=then)

    @staticmethod
    def from_function(fn: Callable[[dict[str, Any]], Reply]) -> Reply:
        return _FromFunction(fn=fn)


@dataclass(frozen=True, slots=True)
class _Completion(Reply):
    content: str | None
    calls: tuple[ToolCall, ...]
    finish_reason: str


@dataclass(frozen=True, slots=True)
class _Failure(Reply):
    status: int
    message: str
    type: str
    code: str | None
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _Delayed(Reply):
    seconds: float
    then: Reply


@dataclass(frozen=True, slots=True)
class _FromFunction(Reply):
    fn: Callable[[dict[str, Any]], Reply]


@dataclass(frozen=True)
class _Problem:
    message: str
    param: str | None


def _error_response(
    status: int,
    message: str,
    type: str,
    *,
    param: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"message": message, "type": type, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


class _ThreadedServer(uvicorn.Server):
    # Signal handlers can only be installed from the main thread, and the test process owns SIGINT anyway.
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class ScriptedOpenAI:
    """An OpenAI-compatible server in a background thread; each chat-completions request consumes one scripted reply.

    Extras beyond the brief: ``errors`` (exceptions raised by ``from_function`` callbacks, which are otherwise only
    visible to the client as a 500), ``pending`` (replies not yet consumed), and use as a context manager.
    """

    def __init__(self, *, api_key: str = "test-key", model: str = "fake-model") -> None:
        self.api_key = api_key
        self.model = model
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._default: Reply | None = None
        self._requests: list[dict[str, Any]] = []
        self._errors: list[BaseException] = []
        self._serials = itertools.count(1)
        self._server: _ThreadedServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat_completions, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ],
            exception_handlers={404: self._no_route, 405: self._no_route},
        )

    # --- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("ScriptedOpenAI is already running")
        # The bound socket goes to uvicorn as is, so no other process can take the port between picking and serving.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
            loop="asyncio",
            # A ceiling only: delayed replies end early on stop(), so shutdown does not wait for them.
            timeout_graceful_shutdown=5,
        )
        server = _ThreadedServer(config)
        thread = threading.Thread(target=self._run, args=(server, sock), name=f"scripted-openai-{port}", daemon=True)
        self._server, self._thread, self._port = server, thread, port
        thread.start()
        try:
            self._wait_until_serving(server, thread)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        server, thread, loop, stopping = self._server, self._thread, self._loop, self._stopping
        if server is None or thread is None:
            return
        if loop is not None and stopping is not None:
            # The loop may already be closed if the server thread died; then there is nothing left to wake.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        server.should_exit = True
        thread.join(timeout=15)
        if thread.is_alive():
            raise RuntimeError(f"ScriptedOpenAI on port {self._port} did not stop within 15s")
        self._server = self._thread = None
        self._loop = None
        self._stopping = None

    def __enter__(self) -> ScriptedOpenAI:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("ScriptedOpenAI has not been started")
        return f"http://127.0.0.1:{self._port}/v1"

    # --- script and log --------------------------------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        for reply in replies:
            if not isinstance(reply, Reply):
                raise TypeError(f"script() takes Reply objects, got {reply!r}")
        with self._lock:
            self._queue.extend(replies)

    def set_default(self, reply: Reply | None) -> None:
        with self._lock:
            self._default = reply

    @property
    def requests(self) -> list[dict[str, Any]]:
        # A deep copy: the caller may inspect or mutate it while the server thread appends.
        with self._lock:
            return copy.deepcopy(self._requests)

    @property
    def errors(self) -> list[BaseException]:
        with self._lock:
            return list(self._errors)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._default = None
            self._requests.clear()
            self._errors.clear()
            self._serials = itertools.count(1)

    # --- server thread ---------------------------------------------------------------------------------------------

    def _run(self, server: _ThreadedServer, sock: socket.socket) -> None:
        try:
            asyncio.run(self._serve(server, sock))
        finally:
            sock.close()  # uvicorn closes it only after a successful startup

    async def _serve(self, server: _ThreadedServer, sock: socket.socket) -> None:
        self._stopping = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        await server.serve(sockets=[sock])

    def _wait_until_serving(self, server: _ThreadedServer, thread: threading.Thread) -> None:
        deadline = time.monotonic() + 15
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if not thread.is_alive():
                raise RuntimeError("ScriptedOpenAI's server thread exited during startup")
            if server.started:
                try:
                    answer = httpx.get(
                        f"{self.base_url}/models", headers={"Authorization": f"Bearer {self.api_key}"}, timeout=2
                    )
                except httpx.HTTPError as error:
                    last_error = error
                else:
                    if answer.status_code == 200:
                        return
                    last_error = RuntimeError(f"GET /v1/models answered {answer.status_code}: {answer.text}")
            time.sleep(0.02)
        raise RuntimeError(f"ScriptedOpenAI did not answer within 15s; last error: {last_error!r}")

    # --- HTTP handlers (run on the server thread's event loop) -----------------------------------------------------

    async def _no_route(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        message = f"Invalid URL ({request.method} {request.url.path})"
        return _error_response(status, message, "invalid_request_error")

    def _auth_problem(self, request: Request) -> Response | None:
        header = request.headers.get("authorization")
        if header is None:
            message = (
                "You didn't provide an API key. You need to provide your API key in an Authorization header "
                "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            return _error_response(401, message, "invalid_request_error", code="invalid_api_key")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.api_key:
            shown = token.strip()[:3] + "***" if token.strip() else "(empty)"
            message = f"Incorrect API key provided: {shown}."
            return _error_response(401, message, "invalid_request_error", code="invalid_api_key")
        return None

    async def _models(self, request: Request) -> Response:
        denied = self._auth_problem(request)
        if denied is not None:
            return denied
        return JSONResponse(
            {"object": "list", "data": [{"id": self.model, "object": "model", "created": 0, "owned_by": "fake"}]}
        )

    async def _chat_completions(self, request: Request) -> Response:
        denied = self._auth_problem(request)
        if denied is not None:
            return denied
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            message = "We could not parse the JSON body of your request: expected a JSON object."
            return _error_response(400, message, "invalid_request_error")
        with self._lock:
            self._requests.append(body)
            number = len(self._requests)
        problem = _request_problem(body)
        if problem is not None:
            return _error_response(400, problem.message, "invalid_request_error", param=problem.param)
        with self._lock:
            reply = self._queue.popleft() if self._queue else self._default
        if reply is None:
            message = f"script exhausted: no reply scripted for chat-completions request #{number} and no default set"
            return _error_response(500, message, "server_error")
        return await self._answer(reply, body, request)

    async def _answer(self, reply: Reply, body: dict[str, Any], request: Request) -> Response:
        if isinstance(reply, _Completion):
            return JSONResponse(self._completion(reply, body))
        if isinstance(reply, _Failure):
            headers = dict(reply.headers)
            return _error_response(reply.status, reply.message, reply.type, code=reply.code, headers=headers)
        if isinstance(reply, _Delayed):
            cut_short = await self._pause(reply.seconds, request)
            if cut_short is not None:
                return _error_response(503, cut_short, "server_error")
            return await self._answer(reply.then, body, request)
        if isinstance(reply, _FromFunction):
            try:
                # A copy, so the callback cannot rewrite what the log recorded.
                chosen = reply.fn(copy.deepcopy(body))
                if not isinstance(chosen, Reply):
                    raise TypeError(f"Reply.from_function callback returned {chosen!r}, not a Reply")
            except Exception as error:
                with self._lock:
                    self._errors.append(error)
                return _error_response(500, f"from_function callback failed: {error!r}", "server_error")
            return await self._answer(chosen, body, request)
        raise TypeError(f"unknown Reply kind {reply!r}")

    async def _pause(self, seconds: float, request: Request) -> str | None:
        """Sleep without blocking other requests; return why the wait was cut short, or None if it elapsed.

        Ends early when the client hangs up (as after its own timeout), so nothing keeps sleeping for a client that
        is gone, and on stop(), so shutting down never waits out a long scripted delay.
        """
        stopping = self._stopping
        assert stopping is not None  # set before the server accepts connections
        elapsed = asyncio.ensure_future(asyncio.sleep(seconds))
        hung_up = asyncio.ensure_future(_client_hangs_up(request))
        halted = asyncio.ensure_future(stopping.wait())
        waiting = {elapsed, hung_up, halted}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waiting:
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)
        if elapsed.done() and not elapsed.cancelled():
            return None
        if halted.done() and not halted.cancelled():
            return "fake server stopped during a scripted delay"
        return "client disconnected during a scripted delay"

    def _completion(self, reply: _Completion, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            serial = next(self._serials)
        message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
        completion_chars = len(reply.content or "")
        if reply.calls:
            calls = []
            for index, call in enumerate(reply.calls):
                arguments = call.arguments
                if not isinstance(arguments, str):
                    arguments = json.dumps(arguments, ensure_ascii=False)
                completion_chars += len(call.name) + len(arguments)
                calls.append(
                    {
                        "id": call.id or f"call_fake_{serial}_{index}",
                        "type": "function",
                        "function": {"name": call.name, "arguments": arguments},
                    }
                )
            message["tool_calls"] = calls
        prompt_chars = len(json.dumps(body.get("messages"), ensure_ascii=False)) + len(
            json.dumps(body.get("tools") or [], ensure_ascii=False)
        )
        prompt_tokens = max(1, prompt_chars // 4)
        completion_tokens = max(1, completion_chars // 4)
        return {
            "id": f"chatcmpl-fake-{serial}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish_reason}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


async def _client_hangs_up(request: Request) -> None:
    # The body has been read, so the next ASGI message can only be the disconnect.
    while (await request.receive())["type"] != "http.disconnect":
        pass


# --- request checks: the 400s real servers give --------------------------------------------------------------------

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_FUNCTION_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def _request_problem(body: dict[str, Any]) -> _Problem | None:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _Problem("you must provide a model parameter", "model")
    if body.get("stream"):
        return _Problem("stream=true is not supported by this fake server; the provider is non-streaming", "stream")
    return _tools_problem(body) or _messages_problem(body.get("messages"))


def _tools_problem(body: dict[str, Any]) -> _Problem | None:
    tools = body.get("tools")
    if tools is None:
        if body.get("tool_choice") is not None:
            message = "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified."
            return _Problem(message, "tool_choice")
        return None
    if not isinstance(tools, list) or not tools:
        return _Problem("Invalid 'tools': expected a non-empty array.", "tools")
    for index, tool in enumerate(tools):
        problem = _tool_problem(tool, f"tools[{index}]")
        if problem is not None:
            return problem
    return None


def _tool_problem(tool: object, param: str) -> _Problem | None:
    function = tool.get("function") if isinstance(tool, dict) else None
    if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
        return _Problem(f"Invalid '{param}': expected an object with type 'function' and a 'function'.", param)
    name = function.get("name")
    if not isinstance(name, str) or not _FUNCTION_NAME.fullmatch(name):
        message = f"Invalid '{param}.function.name': expected a string matching '^[a-zA-Z0-9_-]{{1,64}}$'."
        return _Problem(message, f"{param}.function.name")
    parameters = function.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        return _Problem(f"Invalid '{param}.function.parameters': expected an object.", f"{param}.function.parameters")
    return None


def _is_content(content: object) -> bool:
    return isinstance(content, str) or (
        isinstance(content, list) and all(isinstance(part, dict) and "type" in part for part in content)
    )


def _unanswered(open_calls: list[str]) -> _Problem:
    message = (
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(open_calls)}"
    )
    return _Problem(message, "messages")


def _messages_problem(messages: object) -> _Problem | None:
    if not isinstance(messages, list) or not messages:
        return _Problem("Invalid 'messages': expected a non-empty array.", "messages")
    open_calls: list[str] = []  # the latest assistant tool calls that no tool message has answered yet
    answerable: set[str] = set()  # the ids a tool message may answer at this point of the conversation
    for index, message in enumerate(messages):
        param = f"messages[{index}]"
        problem = _message_problem(message, param)
        if problem is not None:
            return problem
        if message["role"] == "tool":
            if message["tool_call_id"] not in answerable:
                text = "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with "
                return _Problem(text + "'tool_calls'.", f"{param}.role")
            if message["tool_call_id"] in open_calls:
                open_calls.remove(message["tool_call_id"])
            continue
        if open_calls:
            return _unanswered(open_calls)
        open_calls = [call["id"] for call in message.get("tool_calls") or []]
        answerable = set(open_calls)
    return _unanswered(open_calls) if open_calls else None


def _message_problem(message: object, param: str) -> _Problem | None:
    """The shape of one message on its own; how tool messages pair with tool calls is _messages_problem's."""
    if not isinstance(message, dict):
        return _Problem(f"Invalid '{param}': expected an object.", param)
    role = message.get("role")
    if role not in _ROLES:
        return _Problem(f"Invalid value for '{param}.role': {role!r}.", f"{param}.role")
    calls = message.get("tool_calls") if role == "assistant" else None
    if calls is not None:
        problem = _tool_calls_problem(calls, f"{param}.tool_calls")
        if problem is not None:
            return problem
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        return _Problem(f"Missing required parameter: '{param}.tool_call_id'.", f"{param}.tool_call_id")
    content = message.get("content")
    if _is_content(content) or (calls is not None and content is None):
        return None
    return _Problem(f"Invalid '{param}.content': expected a string or an array of parts.", f"{param}.content")


def _tool_calls_problem(calls: object, param: str) -> _Problem | None:
    if not isinstance(calls, list) or not calls:
        return _Problem(f"Invalid '{param}': expected a non-empty array.", param)
    for index, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if (
            not isinstance(call, dict)
            or not isinstance(call.get("id"), str)
            or call.get("type") != "function"
            or not isinstance(function, dict)
            or not isinstance(function.get("name"), str)
        ):
            message = f"Invalid '{param}[{index}]': expected {{id, type: 'function', function: {{name, arguments}}}}."
            return _Problem(message, f"{param}[{index}]")
        if not isinstance(function.get("arguments"), str):
            message = f"Invalid type for '{param}[{index}].function.arguments': expected a JSON string."
            return _Problem(message, f"{param}[{index}].function.arguments")
    return None
