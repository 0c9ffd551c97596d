"""HTTP conventions shared by the gateway and the api.

Bad input always gets a 4xx JSON body ``{success: false, error}`` that names the field and the
problem; a body over the limit gets 413 before any handler runs.
"""

from __future__ import annotations

import email.message
import json
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import AiAdminError, InvalidInput, UnreadableBody, http_status_of
from shared.logging import get_logger

MAX_BODY_BYTES = 1024 * 1024

T = TypeVar("T")

log = get_logger(__name__)


def error_response(status: int, error: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"success": False, "error": error, **extra}, status_code=status)


class BadRequestRoute(APIRoute):
    """A route of the original's contract, whose validator answered 400 for every invalid field.

    ``APIRouter(route_class=BadRequestRoute)``: bad input on its routes is a 400 whatever the app's
    default (the api's is 422), still as ``{success: false, error}`` naming the field.
    """

    validation_status: ClassVar[int] = 400


def _route_validation_status(request: Request) -> int | None:
    route = request.scope.get("route")
    status = getattr(route, "validation_status", None)
    return status if isinstance(status, int) else None


def is_json_content_type(value: str | None) -> bool:
    """``application/json`` or any ``application/*+json``: what FastAPI parses as a JSON body."""
    if not value:
        return False
    parsed = email.message.Message()
    parsed["content-type"] = value
    subtype = parsed.get_content_subtype()
    return parsed.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def _body_not_sent_as_json(request: Request, errors: Sequence[Any]) -> str | None:
    """The message for a body FastAPI left unparsed because it did not come as JSON, else None.

    A JSON object posted with another Content-Type (curl -d sends a form's) reaches the model as raw
    bytes; "must be a JSON object" about valid JSON would send the caller looking in the wrong place.
    The original's express.json() ignored such a body too, so it was refused there as well.
    """
    first = errors[0] if errors else {}
    if tuple(first.get("loc", ())) != ("body",) or not isinstance(first.get("input"), bytes | bytearray):
        return None
    content_type = request.headers.get("content-type")
    if is_json_content_type(content_type):
        return None
    sent = f"Content-Type: {content_type}" if content_type else "no Content-Type"
    return f"request body must be sent as JSON with Content-Type: application/json (got {sent})"


def _friendlier(first: dict[str, Any], message: str) -> str:
    """pydantic's length messages in the words of a text field: characters, and the length it got."""
    kind = first.get("type")
    context = first.get("ctx") or {}
    value = first.get("input")
    if kind == "string_too_short" and context.get("min_length") == 1:
        return "must not be empty"
    if kind == "string_too_short":
        return f"must be at least {context.get('min_length')} characters long"
    if kind == "string_too_long" and isinstance(value, str):
        return f"must be at most {context.get('max_length')} characters long (got {len(value)})"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "is required"
    return message


def describe_validation(errors: Sequence[Any]) -> tuple[int, str]:
    """(status, message) for pydantic errors: 400 for unreadable JSON, else 422 naming the field."""
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return 400, "request body is not valid JSON"
    location = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "path", "query"))
    message = str(first.get("msg", "invalid request"))
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    message = _friendlier(first, message)
    if not location and first.get("type") in ("model_attributes_type", "dict_type", "model_type"):
        return 422, "request body must be a JSON object"
    if first.get("type") == "missing" and not location:
        return 422, "request body is required"
    return 422, f"{location}: {message}" if location else message


def install_error_handlers(app: FastAPI, validation_status: int | None = None) -> None:
    """Answer every failure with a JSON body and the status the error tree gives it (``shared.errors``).

    ``validation_status`` forces one status for bad input: the gateway answers 400, as the original did;
    a route of a ``BadRequestRoute`` router does the same in any app.
    """

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        not_json = _body_not_sent_as_json(request, errors)
        if not_json is not None:
            return error_response(UnreadableBody.http_status, not_json)
        status, message = describe_validation(errors)
        return error_response(_route_validation_status(request) or validation_status or status, message)

    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AiAdminError)
        status = http_status_of(exc)
        forced = _route_validation_status(request) or validation_status
        if forced is not None and isinstance(exc, InvalidInput) and not isinstance(exc, UnreadableBody):
            status = forced
        if status >= 500:
            log.warning("Request failed", path=request.url.path, status=status, error=str(exc))
        return error_response(status, str(exc))

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(exc.status_code, str(exc.detail))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("Unhandled error", path=request.url.path, error=repr(exc), exc_info=exc)
        return error_response(500, "internal error; see the service log")

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(AiAdminError, on_error)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


class BodyLimitMiddleware:
    """Reject bodies over ``max_bytes`` with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, f"request body is larger than {self.max_bytes} bytes")
        await response(scope, receive, send)


def parse_json_value(body: bytes) -> Any:
    """Any JSON value; UnreadableBody when the body is not JSON."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UnreadableBody("request body is not valid JSON") from None


def parse_json_object(body: bytes) -> dict[str, Any]:
    """Parse a request body that must be a JSON object, raising InvalidInput otherwise."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UnreadableBody("request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("request body must be a JSON object")
    return data


def parse_body(body: bytes, parse: Callable[[dict[str, Any]], T]) -> T:
    """A JSON-object body through ``parse`` (a model's validator); InvalidInput naming the field otherwise."""
    data = parse_json_object(body)
    try:
        return parse(data)
    except ValidationError as error:
        raise InvalidInput(describe_validation(error.errors())[1]) from None
