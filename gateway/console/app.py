"""The console as an ASGI application, and `serve`, which runs it on uvicorn.

Server-rendered HTML with Jinja2 templates shipped in the wheel; every page works without
JavaScript. Retry and discard go through actions.py, the same code as the command line: done
at once with no service running, handed to the running service through the ledger otherwise.
"""

from __future__ import annotations

import html
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.config import Config
from gateway.console import security
from gateway.console.pages import Pages
from gateway.errors import ConfigError

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8470


def build(config: Config, host: str = DEFAULT_HOST) -> Starlette:
    """The console for `config`, as served on `host` (off the loopback it needs the token)."""
    if not security.is_loopback(host) and not config.console_token:
        raise ConfigError([
            f"console: {host} is not the loopback; set console_token in the configuration so that"
            " only operators can use it, or serve on 127.0.0.1 (the default)"
        ])  # fmt: skip
    guard = security.Guard("" if security.is_loopback(host) else config.console_token)
    pages = Pages(config, guard)

    async def error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return HTMLResponse(f"<!doctype html><title>{exc.status_code}</title><h1>{exc.status_code}</h1>"
                            f"<p>{html.escape(exc.detail)}</p><p><a href='/quarantine'>Quarantine</a></p>",
                            status_code=exc.status_code)  # fmt: skip

    routes = [
        Route("/", pages.home),
        Route("/quarantine", pages.inbox),
        Route("/cases/{file_id}", pages.case),
        Route("/cases/{file_id}/{target}", pages.case),
        Route("/actions", pages.act, methods=["POST"]),
        Route("/files", pages.files),
        Route("/files/{file_id}", pages.file),
        Route("/partners", pages.partners),
        Route("/targets", pages.targets),
        Route("/login", pages.login, methods=["GET", "POST"]),
        # Prometheus scrapes it without the token, like the stylesheet (security.OPEN_PATHS).
        Route("/metrics", pages.metrics),
        Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"),
    ]
    middleware = [Middleware(security.Middleware, guard=guard)]
    if security.is_loopback(host):
        # A rebinding DNS name pointed at 127.0.0.1 must not reach the console.
        middleware.insert(0, Middleware(TrustedHostMiddleware, allowed_hosts=list(security.LOOPBACK_NAMES)))
    return Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: error})


def serve(config: Config, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve the console until interrupted."""
    import uvicorn

    app = build(config, host)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)
