"""Every error leaves the API as JSON `{"error", "requestId"}` with the right status.

Litestar's own exceptions (validation, 401/403/404/405/413/429, ...) and ours share one
handler. Unexpected exceptions become a 500 without internals (the traceback goes to the
log with the request id); development mode adds the exception text to help debugging.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import psycopg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import (
    HTTP_409_CONFLICT,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_502_BAD_GATEWAY,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap
from psycopg_pool import PoolTimeout

log = logging.getLogger("api")


class ConflictException(HTTPException):
    status_code = HTTP_409_CONFLICT


class BadGatewayException(HTTPException):
    """The store (Shopify) could not be reached or answered unexpectedly."""

    status_code = HTTP_502_BAD_GATEWAY


def _request_id(request: Request[Any, Any, Any]) -> str:
    """The id the request context middleware gave the request; one of its own for errors
    Litestar raises before any middleware runs (no route for the path or the method)."""
    state = request.scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = uuid.uuid4().hex
        state["request_id_unsent"] = True
    request_id: str = state["request_id"]
    return request_id


def _body(message: str, request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
    return {"error": message, **extra, "requestId": _request_id(request)}


def _headers(request: Request[Any, Any, Any], headers: dict[str, str]) -> dict[str, str]:
    if request.scope["state"].get("request_id_unsent"):
        headers["x-request-id"] = request.scope["state"]["request_id"]
    return headers


def _validation_message(exc: ValidationException) -> tuple[str, list[Any]]:
    details = exc.extra if isinstance(exc.extra, list) else []
    reasons = [
        f"{d.get('message')}" + (f" ({d['key']})" if d.get("key") not in (None, "data") else "")
        for d in details
        if isinstance(d, dict)
    ]
    return ("invalid request: " + "; ".join(reasons)) if reasons else exc.detail, details


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    headers = dict(exc.headers or {})
    extra: dict[str, Any] = {}
    message = exc.detail
    if isinstance(exc, ValidationException):
        message, details = _validation_message(exc)
        if details:
            extra["details"] = details
    if exc.status_code == HTTP_429_TOO_MANY_REQUESTS:
        headers.setdefault("Retry-After", headers.get("RateLimit-Reset", "60"))
        message = "too many requests; retry later"
    body = _body(message, request, **extra)
    return Response(
        body,
        status_code=exc.status_code,
        headers=_headers(request, headers),
        media_type=MediaType.JSON,
    )


def unexpected_exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, psycopg.errors.QueryCanceled | PoolTimeout):
        log.warning(
            "database busy: %s", type(exc).__name__, extra={"request_id": _request_id(request)}
        )
        body = _body("the database is busy; retry later", request)
        return Response(
            body,
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            headers=_headers(request, {"Retry-After": "5"}),
        )
    log.exception("unhandled error", extra={"request_id": _request_id(request)})
    message = "internal server error"
    if request.app.debug:
        message += f": {type(exc).__name__}: {exc}"
    body = _body(message, request)
    return Response(body, status_code=HTTP_500_INTERNAL_SERVER_ERROR, headers=_headers(request, {}))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    HTTPException: http_exception_handler,
    Exception: unexpected_exception_handler,
}
