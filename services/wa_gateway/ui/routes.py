"""The operator's page: ``/`` (and ``/ui``) on the gateway, server-rendered, for the salon's owner.

It reads what the gateway already knows (the session's state, the journal, the conversation store)
and acts through the same calls as the gateway's JSON routes: a reply goes through ``send_message``
like the worker's, so it is sent once per form and lands in the transcript as a person's.
Every error is answered as a page that says what happened; bad input is a 4xx, never a 500.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from services.wa_gateway.deps import Gateway, GatewayDep
from services.wa_gateway.outbound import send_message
from services.wa_gateway.ui import words
from services.wa_gateway.ui.access import LoginNeeded, PageAccess, PageError, PageSession
from shared.blocking import run_blocking
from shared.conversations import ChatSummary
from shared.errors import AiAdminError, InvalidInput, UnreadableBody, http_status_of
from shared.http import describe_validation
from shared.logging import bound, get_logger
from shared.phones import normalize_chat, normalize_phone
from shared.wire import MAX_MESSAGE_CHARS, SendRequest

log = get_logger(__name__)

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
STATIC = {"operator.css": "text/css", "operator.js": "text/javascript"}
MAX_TAKEOVER_MINUTES = 7 * 24 * 60
PAUSED_BY = "operator page"
_SUBMIT_TOKEN = re.compile(r"^[0-9a-f]{32}$")

SECURITY_HEADERS = {
    # Scripts and styles only from this page's own files; the QR is a data: image.
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
        " form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    # Same-origin only: our own forms send a Referer to check, and a chat's URL (a phone) never leaves.
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


def _ms_text(at_ms: int | None) -> str:
    return words.time_text(None if at_ms is None else at_ms / 1000)


def _ms_iso(at_ms: int | None) -> str:
    return words.iso_time(None if at_ms is None else at_ms / 1000)


TEMPLATES.env.filters.update(
    phone=words.phone_text,
    ms_text=_ms_text,
    ms_iso=_ms_iso,
    command_text=words.command_text,
    command_details=words.command_details,
)


def _protect(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _error_page(request: Request, error: PageError) -> Response:
    response = TEMPLATES.TemplateResponse(
        request, "message.html", {"title": error.title, "message": error.message}, status_code=error.status
    )
    return _protect(response)


def _status_of(error: AiAdminError) -> int:
    """The error tree's status, but bad input is a 400 here, as on every gateway route."""
    if isinstance(error, InvalidInput) and not isinstance(error, UnreadableBody):
        return 400
    return http_status_of(error)


def _titled(error: AiAdminError) -> PageError:
    status = _status_of(error)
    title = {400: "That did not look right", 404: "Not found", 409: "Not possible here"}.get(
        status, "WhatsApp could not do that now" if status >= 500 else "Refused"
    )
    return PageError(status, title, str(error))


class PageRoute(APIRoute):
    """Answers every failure of a page route as a page: login needed, refused, bad input, or a bug."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return _protect(await handler(request))
            except LoginNeeded as error:
                if request.method == "GET" and "/partials/" not in request.url.path:
                    return _protect(RedirectResponse("/ui/login", status_code=303))
                return _error_page(request, error)
            except PageError as error:
                return _error_page(request, error)
            except AiAdminError as error:
                return _error_page(request, _titled(error))
            except RequestValidationError as error:
                return _error_page(request, PageError(400, "That did not look right", _validation_text(error)))
            except Exception as error:
                log.error("Operator page failed", path=request.url.path, error=repr(error), exc_info=error)
                return _error_page(
                    request, PageError(500, "Something went wrong", "The page failed; the gateway's log says why.")
                )

        return handle


def _validation_text(error: RequestValidationError | ValidationError) -> str:
    return describe_validation(error.errors())[1]


router = APIRouter(route_class=PageRoute, include_in_schema=False)


# --- the browser's session ---------------------------------------------------------------------


def _access(request: Request) -> PageAccess:
    access: PageAccess | None = getattr(request.app.state, "operator_page_access", None)
    if access is None:
        settings = request.app.state.gateway.settings
        access = PageAccess(settings.wa_gateway_host, settings.api_key.get_secret_value(), settings.data_dir)
        request.app.state.operator_page_access = access
    return access


async def open_session(request: Request) -> PageSession:
    return await _access(request).open(request)


async def logged_in(request: Request) -> PageSession:
    session = await open_session(request)
    if not session.authenticated:
        raise LoginNeeded
    return session


AnySession = Annotated[PageSession, Depends(open_session)]
Session = Annotated[PageSession, Depends(logged_in)]


async def read_form(request: Request, session: PageSession) -> Mapping[str, str]:
    """The form's text fields, after the CSRF and origin checks; a body that is no form is a 400."""
    try:
        form = await request.form()
    except Exception as error:  # whatever the parser makes of bytes a stranger sent: not our failure
        raise PageError(400, "That did not look right", f"The form could not be read: {error}") from None
    fields = {name: value for name, value in form.items() if isinstance(value, str)}
    _access(request).check_form(request, session, fields.get("csrf", ""))
    return fields


def render(
    request: Request, session: PageSession, template: str, context: Mapping[str, Any], status: int = 200
) -> Response:
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {"session": session, "login_required": _access(request).login_required, **context},
        status_code=status,
    )
    session.set_cookie(response)
    return response


def redirect(session: PageSession, url: str) -> Response:
    response = RedirectResponse(url, status_code=303)
    session.set_cookie(response)
    return response


# --- what the pages show -----------------------------------------------------------------------


def _qr_image(qr: str | None) -> str | None:
    return segno.make_qr(qr).svg_data_uri(scale=6, border=4) if qr else None


async def _status_context(gateway: Gateway) -> dict[str, Any]:
    state = gateway.session.state
    backlog = await run_blocking(gateway.journal.backlog)
    last_in = await run_blocking(gateway.conversations.last_message, "in")
    last_out = await run_blocking(gateway.conversations.last_message, "out")
    return {
        "state": state,
        "words": words.describe_status(state, gateway.session.transport.name),
        "since": words.time_text(state.since),
        "since_iso": words.iso_time(state.since),
        "qr_image": _qr_image(state.qr) if state.qr else None,
        "backlog": backlog,
        "backlog_age": words.ago_text(backlog.oldest_age_seconds),
        "delivered": gateway.forwarder.delivered,
        "failed_attempts": gateway.forwarder.failed_attempts,
        "last_in": last_in,
        "last_out": last_out,
    }


async def _chats_context(gateway: Gateway) -> dict[str, Any]:
    return {"chats": await run_blocking(gateway.conversations.chats), "minutes": _default_minutes(gateway)}


async def _chat_context(gateway: Gateway, chat: str) -> dict[str, Any]:
    summary = await _existing(gateway, chat)
    transcript = await run_blocking(gateway.conversations.transcript, chat)
    return {"chat": chat, "summary": summary, "transcript": transcript, "minutes": _default_minutes(gateway)}


def _default_minutes(gateway: Gateway) -> int:
    return gateway.settings.human_takeover_minutes or 60


def _chat_key(gateway: Gateway, raw: str) -> str:
    return normalize_chat(raw, gateway.settings.default_region)


async def _existing(gateway: Gateway, chat: str) -> ChatSummary:
    summary = await run_blocking(gateway.conversations.summary, chat)
    if summary is None:
        raise PageError(404, "No such conversation", f"There is no conversation with {words.phone_text(chat)}.")
    return summary


def _minutes(raw: str | None, default: int) -> int:
    if raw is None or not raw.strip():
        return default
    text = raw.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_TAKEOVER_MINUTES:
        raise PageError(
            400,
            "That did not look right",
            f"Minutes must be a whole number from 1 to {MAX_TAKEOVER_MINUTES} (a week); got {text[:40]!r}.",
        )
    return int(text)


def _back(form: Mapping[str, str], chat: str) -> str:
    """Where a chat's switch returns to: the chat's page or the overview; never a URL from the form."""
    return f"/ui/chats/{chat}" if form.get("back") == "chat" else "/"


# --- pages -------------------------------------------------------------------------------------


@router.get("/")
@router.get("/ui")
async def overview(request: Request, gateway: GatewayDep, session: Session) -> Response:
    context = {**await _status_context(gateway), **await _chats_context(gateway)}
    return render(request, session, "overview.html", context)


@router.get("/ui/chats/{chat}")
async def chat_page(request: Request, chat: str, gateway: GatewayDep, session: Session) -> Response:
    key = _chat_key(gateway, chat)
    context = await _chat_context(gateway, key)
    return render(request, session, "chat.html", {**context, "submit_token": secrets.token_hex(16), "text": ""})


@router.get("/ui/partials/status")
async def status_partial(request: Request, gateway: GatewayDep, session: Session) -> Response:
    return render(request, session, "_status.html", await _status_context(gateway))


@router.get("/ui/partials/chats")
async def chats_partial(request: Request, gateway: GatewayDep, session: Session) -> Response:
    return render(request, session, "_chats.html", await _chats_context(gateway))


@router.get("/ui/partials/chats/{chat}")
async def transcript_partial(request: Request, chat: str, gateway: GatewayDep, session: Session) -> Response:
    return render(request, session, "_transcript.html", await _chat_context(gateway, _chat_key(gateway, chat)))


@router.get("/ui/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC:
        raise PageError(404, "Not found", "There is no such file.")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name], headers={"cache-control": "no-cache"})


# --- actions -----------------------------------------------------------------------------------


@router.post("/ui/chats/{chat}/takeover")
async def take_over(request: Request, chat: str, gateway: GatewayDep, session: Session) -> Response:
    form = await read_form(request, session)
    key = _chat_key(gateway, chat)
    await _existing(gateway, key)
    minutes = _minutes(form.get("minutes"), _default_minutes(gateway))
    until_ms = int(time.time() * 1000) + minutes * 60_000
    await run_blocking(gateway.conversations.pause, key, until_ms, by=PAUSED_BY)
    with bound(company_id=gateway.settings.company_id, chat=key):
        log.info("Operator took a chat over; the AI is paused there", minutes=minutes)
    return redirect(session, _back(form, key))


@router.post("/ui/chats/{chat}/release")
async def release(request: Request, chat: str, gateway: GatewayDep, session: Session) -> Response:
    form = await read_form(request, session)
    key = _chat_key(gateway, chat)
    await _existing(gateway, key)
    await run_blocking(gateway.conversations.release, key)
    with bound(company_id=gateway.settings.company_id, chat=key):
        log.info("Operator handed a chat back to the AI")
    return redirect(session, _back(form, key))


@router.post("/ui/chats/{chat}/reply")
async def reply(request: Request, chat: str, gateway: GatewayDep, session: Session) -> Response:
    form = await read_form(request, session)
    key = _chat_key(gateway, chat)
    token = form.get("submit_token", "")
    if not _SUBMIT_TOKEN.match(token):
        raise PageError(400, "That did not look right", "The form is missing its send token; reload the page.")
    # Browsers send a textarea's line breaks as CRLF; WhatsApp shows LF.
    text = form.get("text", "").replace("\r\n", "\n").strip()

    async def again(status: int, error: str) -> Response:
        """The chat's page with the text kept, so a failed send never loses what the owner typed."""
        context = await _chat_context(gateway, key)
        return render(
            request,
            session,
            "chat.html",
            {**context, "submit_token": token, "text": text, "error": error},
            status,
        )

    if not text:
        return await again(400, "Type a message first.")
    if len(text) > MAX_MESSAGE_CHARS:
        return await again(
            400, f"The message is {len(text)} characters long; WhatsApp takes at most {MAX_MESSAGE_CHARS}."
        )
    await _existing(gateway, key)
    try:
        # One token per rendered form: a double submit, or a retry after a failure, sends once.
        message = SendRequest(phone=key, message=text, author="person", idempotency_key=f"operator-page:{token}")
    except ValidationError as error:
        return await again(400, f"The message can't be sent: {_validation_text(error)}")
    try:
        result = await send_message(gateway, message)
    except AiAdminError as error:
        return await again(_status_of(error), f"Not sent: {error}")
    with bound(company_id=gateway.settings.company_id, chat=key):
        log.info("Operator replied from the page", wa_message_id=result.message_id, duplicate=result.duplicate)
    return redirect(session, f"/ui/chats/{key}")


@router.post("/ui/reconnect")
async def reconnect(request: Request, gateway: GatewayDep, session: Session) -> Response:
    await read_form(request, session)
    await gateway.session.reconnect()
    return redirect(session, "/")


@router.post("/ui/pair")
async def pair(request: Request, gateway: GatewayDep, session: Session) -> Response:
    form = await read_form(request, session)
    phone = normalize_phone(form.get("phone", ""), gateway.settings.default_region)
    code = await gateway.session.pair_phone(phone)
    return render(request, session, "pair_code.html", {"code": code, "phone": phone})


@router.get("/ui/login")
async def login_page(request: Request, session: AnySession) -> Response:
    if session.authenticated:
        return redirect(session, "/")
    return render(request, session, "login.html", {})


@router.post("/ui/login")
async def login(request: Request, session: AnySession) -> Response:
    form = await read_form(request, session)
    access = _access(request)
    if not access.login_required:
        return redirect(session, "/")
    if not access.log_in(session, form.get("key", "")):
        log.warning("Operator page: wrong API key entered", client=request.client.host if request.client else None)
        return render(request, session, "login.html", {"error": "That is not the gateway's API key."}, 401)
    log.info("Operator logged in to the page", client=request.client.host if request.client else None)
    return redirect(session, "/")


@router.post("/ui/logout")
async def logout(request: Request, session: AnySession) -> Response:
    await read_form(request, session)
    access = _access(request)
    access.log_out(session)
    return redirect(session, "/ui/login" if access.login_required else "/")
