"""What keeps the console to its operators: sessions, CSRF tokens, the console token, headers.

Every browser gets a random session cookie (HttpOnly, SameSite=Strict). Every form carries a
CSRF token derived from that session with a secret of this process, and every POST is refused
without it, so another site cannot make an operator's browser retry or discard. Bound to the
loopback the console trusts its host and checks the Host header (a rebinding DNS name cannot
reach it); bound elsewhere it serves nothing but the login page until the session has shown the
`console_token` (or the request carries it as `Authorization: Bearer`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "gateway_console"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")
#: Paths open without the token: the login itself, the stylesheet and Prometheus' scrape.
OPEN_PATHS = ("/login", "/static/", "/metrics")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the console on this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Guard:
    """The sessions of one console process and the token its actions need, if any."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.secret = secrets.token_bytes(32)
        self.signed_in: set[str] = set()

    def session(self, request: Request) -> str:
        """The request's session id (a new one when it has none; `Middleware` sets the cookie)."""
        sid = request.cookies.get(SESSION_COOKIE, "")
        if len(sid) != 43:
            sid = request.scope.setdefault("gateway.new_session", secrets.token_urlsafe(32))
        return sid

    def csrf(self, request: Request) -> str:
        """The CSRF token every form of this session carries."""
        return hmac.new(self.secret, self.session(request).encode(), hashlib.sha256).hexdigest()

    def allowed(self, request: Request) -> bool:
        """Whether the request may see and act (always, without a token)."""
        if not self.token:
            return True
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer and hmac.compare_digest(bearer.encode(), self.token.encode()):
            return True
        return self.session(request) in self.signed_in

    async def form(self, request: Request) -> FormData:
        """The POSTed form, once its CSRF token is checked; 403 otherwise."""
        form = await request.form()
        sent = str(form.get("csrf", ""))
        if not hmac.compare_digest(sent.encode(), self.csrf(request).encode()):
            raise HTTPException(403, "the form is stale or was not sent by this console: reload the page")
        return form

    def sign_in(self, request: Request, token: str) -> bool:
        """Remember the session when `token` is the console token."""
        if not self.token or not hmac.compare_digest(token.encode(), self.token.encode()):
            return False
        self.signed_in.add(self.session(request))
        return True


class Middleware:
    """Sets the session cookie and the security headers, and keeps unsigned sessions at the
    login page when the console needs a token."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        sid = self.guard.session(request)
        headers = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
        if "gateway.new_session" in scope:
            cookie = f"{SESSION_COOKIE}={sid}; HttpOnly; SameSite=Strict; Path=/"
            headers.append((b"set-cookie", cookie.encode()))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        path = request.url.path
        if not any(path == p or path.startswith(p) for p in OPEN_PATHS) and not self.guard.allowed(request):
            response: Response = RedirectResponse("/login", status_code=303)
            if request.method != "GET":
                response = Response("the console token is required", status_code=403)
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
