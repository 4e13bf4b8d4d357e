"""Request context for every HTTP request: request id, security headers, one access log line.

A plain ASGI middleware (outermost), so even errors raised by other middleware (401, 413,
429) carry the request id and the headers.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from litestar.types import ASGIApp, Message, Receive, Scope, Send

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


def _incoming_request_id(scope: Scope) -> str:
    """The caller's id if it is a harmless token (it ends up in logs), else a new one."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER and _SAFE_REQUEST_ID.match(value):
            return value.decode()
    return uuid.uuid4().hex


def request_context_middleware(*, production: bool):
    """Middleware factory: HSTS only in production (development runs on plain http)."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            request_id = _incoming_request_id(scope)
            scope.setdefault("state", {})["request_id"] = request_id
            started = time.perf_counter()
            status = 500
            extra = list(_SECURITY_HEADERS)
            if not scope["path"].startswith(_DOCS_PREFIX):
                extra += [_API_CSP, (b"cache-control", b"no-store")]
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
