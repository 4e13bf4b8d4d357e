"""Request context for every HTTP request: request id, security headers, one access log line.

A plain ASGI middleware (outermost), so even errors raised by other middleware (401, 413,
429) carry the request id and the headers. `errors_as_responses` sits just outside the
auth middleware and turns what it raises into the response right there, so the access
log and the Prometheus middleware see the status that is sent (an exception passing
through them reads as a 500). `json_cors_refusals` answers refused CORS preflights in the
API's error shape.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from api.errors import http_exception_handler, unexpected_exception_handler

log = logging.getLogger("api.access")

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{8,64}$")
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
_DOCS_PREFIX = "/schema"
_ASSETS_PREFIX = "/assets/"
_APP_PATH = "/app"
# The dashboard page: its own scripts and styles only (plotly.js sets inline styles),
# requests to this origin only.
_APP_CSP = (
    b"content-security-policy",
    b"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; "
    b"form-action 'self'; frame-ancestors 'none'",
)
_NO_STORE = (b"cache-control", b"no-store")
_CORS_ENCODER = msgspec.json.Encoder()


def _incoming_request_id(scope: Scope) -> str:
    """The caller's id if it is a harmless token (it ends up in logs), else a new one."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER and _SAFE_REQUEST_ID.match(value):
            return value.decode()
    return uuid.uuid4().hex


def _page_headers(path: str) -> list[tuple[bytes, bytes]]:
    """API responses are never cached nor rendered; the docs keep Litestar's inline
    scripts; assets set their own caching; the dashboard page gets a same-origin CSP."""
    if path.startswith(_DOCS_PREFIX) or path.startswith(_ASSETS_PREFIX):
        return []
    if path == _APP_PATH or path.startswith(_APP_PATH + "/"):
        return [_APP_CSP, _NO_STORE]
    return [_API_CSP, _NO_STORE]


def request_context_middleware(*, production: bool) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware factory: HSTS only in production (development runs on plain http)."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            request_id = _incoming_request_id(scope)
            scope.setdefault("state", {})["request_id"] = request_id
            started = time.perf_counter()
            status = 500
            extra = [*_SECURITY_HEADERS, *_page_headers(scope["path"])]
            if production:
                extra.append(_HSTS)
            extra.append((REQUEST_ID_HEADER, request_id.encode()))

            async def send_with_headers(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message["headers"] = [*message.get("headers", ()), *extra]
                await send(message)

            try:
                await app(scope, receive, send_with_headers)
            finally:
                if log.isEnabledFor(logging.INFO):
                    log.info(
                        "request",
                        extra={
                            "request_id": request_id,
                            "method": scope.get("method"),
                            "route": scope.get("path_template") or scope["path"],
                            "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        },
                    )

        return middleware

    return factory


def errors_as_responses(app: ASGIApp) -> ASGIApp:
    """Renders an exception raised by the middleware inside (auth: 401, the `x-tenant-id`
    400; the login rate limiter: 429) with the app's own handlers, before it leaves."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, receive, tracking_send)
        except Exception as exc:
            if started or scope["type"] != ScopeType.HTTP:
                raise
            request: Request[Any, Any, Any] = Request(scope, receive)
            if isinstance(exc, HTTPException):
                response = http_exception_handler(request, exc)
            else:
                response = unexpected_exception_handler(request, exc)
            await response.to_asgi_response(app=None, request=request)(scope, receive, send)

    return middleware


def json_cors_refusals(app: ASGIApp) -> ASGIApp:
    """Wraps the app (outside Litestar's CORS handling): a refused preflight answers
    `{error, requestId}` like every other error instead of Litestar's plain-text 400, which
    browser clients can only report as a network failure."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        headers: dict[bytes, bytes] = (
            dict(scope.get("headers", ())) if scope["type"] == ScopeType.HTTP else {}
        )
        origin = headers.get(b"origin")
        if scope.get("method") != "OPTIONS" or not origin:
            await app(scope, receive, send)
            return
        refused = False

        async def rewrite(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 400:
                refused = True
                return
            if refused and message["type"] == "http.response.body":
                reason = message.get("body", b"").decode(errors="replace")
                request_id = uuid.uuid4().hex
                body = _CORS_ENCODER.encode(
                    {
                        "error": f"{reason} for origin {origin.decode(errors='replace')}; "
                        "the allowed origins are set by CORS_ORIGINS",
                        "requestId": request_id,
                    }
                )
                start: HTTPResponseStartEvent = {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (REQUEST_ID_HEADER, request_id.encode()),
                        *_SECURITY_HEADERS,
                    ],
                }
                await send(start)
                end: HTTPResponseBodyEvent = {
                    "type": "http.response.body",
                    "body": body,
                    "more_body": False,
                }
                await send(end)
                return
            await send(message)

        await app(scope, receive, rewrite)

    return middleware
