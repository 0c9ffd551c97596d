"""Who may use the operator's page, and whether a form really came from it.

The page shows clients' conversations and can write to them, so:

- Bound to loopback (the default), reaching the port already means being on this machine or
  inside an SSH tunnel; no login. The Host header must still name loopback, or a site the owner
  visits could rebind its DNS name to 127.0.0.1 and read the page from the owner's own browser.
- Bound anywhere else, the page asks for API_KEY once and remembers the browser in a cookie that
  holds a random session id and an HMAC of it keyed by API_KEY (never the key). Without API_KEY
  there is nothing to log in with, so the page refuses to open at all.
- Every POST, login included and on loopback too, carries a CSRF token (an HMAC of the session id
  under a key kept in DATA_DIR) and must come from this page's own origin (Origin, else Referer).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from shared.blocking import run_blocking
from shared.signing import api_key_matches

COOKIE = "wa_operator"
LOGIN_DAYS = 7
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_SECRET_FILE = "operator-page.key"


class PageError(Exception):
    """Answered as an HTML page with this status; the message is for the salon owner to read."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


class LoginNeeded(PageError):
    def __init__(self) -> None:
        super().__init__(401, "Please log in", "Log in with the gateway's API key to use this page.")


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a hostname: it may resolve anywhere


def _host_name(netloc: str) -> str:
    """``[::1]:3003`` -> ``::1``, ``localhost:8080`` -> ``localhost``."""
    return urlsplit(f"//{netloc}").hostname or ""


def load_secret(data_dir: Path) -> bytes:
    """The CSRF key: random, made once per DATA_DIR, readable by this user only; survives restarts,
    so a page left open across a gateway restart still submits."""
    path = data_dir / _SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(secrets.token_bytes(32))
    secret = path.read_bytes()
    if len(secret) < 32:
        raise OSError(f"{path} is shorter than 32 bytes; delete it and it is made again")
    return secret


def _hmac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


@dataclass
class PageSession:
    """One browser: its session id, and whether it logged in (or needs not)."""

    sid: str
    csrf: str
    authenticated: bool
    cookie: str | None
    """A cookie to set on the response (a new session, or one that just logged in); None to keep it."""

    def set_cookie(self, response: Response) -> None:
        if self.cookie is not None:
            # No Secure flag: the gateway serves plain HTTP (loopback, or a tunnel); a Secure cookie never returns.
            response.set_cookie(
                COOKIE, self.cookie, max_age=LOGIN_DAYS * 86400, httponly=True, samesite="strict", path="/"
            )


class PageAccess:
    def __init__(self, bind_host: str, api_key: str, data_dir: Path) -> None:
        self.bind_host = bind_host
        self.login_required = not is_loopback(bind_host)
        self._api_key = api_key
        self._data_dir = data_dir
        self._secret: bytes | None = None

    async def _csrf_key(self) -> bytes:
        if self._secret is None:
            self._secret = await run_blocking(load_secret, self._data_dir)
        return self._secret

    def _login_tag(self, sid: str, expires: int) -> str:
        return _hmac(self._api_key.encode(), f"operator-page login:{sid}:{expires}")

    async def open(self, request: Request) -> PageSession:
        """The browser's session (a new one when it has none); raises PageError when the page is closed to it."""
        self._check_reachable(request)
        key = await self._csrf_key()
        sid, authenticated = self._read_cookie(request.cookies.get(COOKIE, ""))
        cookie = None
        if sid is None:
            sid = secrets.token_hex(16)
            cookie = sid
        return PageSession(sid, _hmac(key, f"csrf:{sid}"), authenticated or not self.login_required, cookie)

    def _check_reachable(self, request: Request) -> None:
        if self.login_required and not self._api_key:
            raise PageError(
                403,
                "The operator's page is off",
                f"The gateway listens on {self.bind_host}, beyond this machine, and API_KEY is not set, so"
                " nothing could keep strangers out. Set API_KEY, or set WA_GATEWAY_HOST=127.0.0.1 and open"
                " the page through an SSH tunnel.",
            )
        if not self.login_required:
            host = _host_name(request.headers.get("host", ""))
            if not (is_loopback(host) or host == self.bind_host):
                raise PageError(
                    403,
                    "Open this page by its own address",
                    "The gateway listens on this machine only: open http://127.0.0.1:<port>/ here, or through"
                    " an SSH tunnel.",
                )

    def _read_cookie(self, value: str) -> tuple[str | None, bool]:
        """(session id, logged in) from ``sid`` or ``sid.expires.tag``; (None, False) when it is not ours."""
        parts = value.split(".")
        sid = parts[0]
        if len(sid) != 32 or any(ch not in "0123456789abcdef" for ch in sid):
            return None, False
        if len(parts) == 3 and self._api_key and parts[1].isdigit():
            expires = int(parts[1])
            fresh = expires > time.time()
            genuine = hmac.compare_digest(self._login_tag(sid, expires).encode(), parts[2].encode("utf-8", "replace"))
            return sid, fresh and genuine
        return sid, False

    def log_in(self, session: PageSession, presented: str) -> bool:
        """Check the key; on success give the browser a new session id (the old one may be known to someone)."""
        if not (self._api_key and api_key_matches(self._api_key, presented)):
            return False
        session.sid = secrets.token_hex(16)
        expires = int(time.time()) + LOGIN_DAYS * 86400
        session.cookie = f"{session.sid}.{expires}.{self._login_tag(session.sid, expires)}"
        session.authenticated = True
        return True

    def log_out(self, session: PageSession) -> None:
        """A fresh anonymous session: the logged-in cookie is overwritten, not just forgotten by the page."""
        session.sid = secrets.token_hex(16)
        session.cookie = session.sid
        session.authenticated = not self.login_required

    @staticmethod
    def check_form(request: Request, session: PageSession, token: str) -> None:
        """A POST must carry this session's CSRF token and come from this page's own origin."""
        host = request.headers.get("host", "")
        source = request.headers.get("origin") or request.headers.get("referer") or ""
        parts = urlsplit(source)
        if not source or parts.scheme not in ("http", "https") or parts.netloc != host:
            raise PageError(
                403,
                "Refused: not sent from this page",
                "This form did not come from the operator's page itself, so nothing was done.",
            )
        if request.cookies.get(COOKIE) is None or not hmac.compare_digest(
            session.csrf.encode(), token.encode("utf-8", "replace")
        ):
            raise PageError(
                403,
                "Refused: the page was out of date",
                "This form belonged to an older page (or the browser dropped its cookie), so nothing was done."
                " Reload the page and try again.",
            )
