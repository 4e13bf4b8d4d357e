"""The OpenAPI document tells the truth about errors: every status an operation can answer
with, each in the shape the API really sends (`{error, requestId}`; see api.errors).

Litestar documents only the 400 of validation, in its own default body. Here each
operation's error statuses are derived from the same facts that produce them (the auth
middleware's public paths, the tenant source and guards, the `before_request` bounds,
the rate limiter) plus the domain errors a handler declares with Litestar's own
`raises=[...]`, and documented as `ResponseSpec`s of one `ErrorBody` schema.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Annotated, Any

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter
from litestar.routes import HTTPRoute

from api.auth.middleware import TENANT_HEADER
from api.limits import MAX_HEADER_BYTES, MAX_JSON_DEPTH


class ErrorBody(msgspec.Struct, rename="camel", frozen=True):
    """Every error: a human-readable message and the request's id (also `X-Request-Id`)."""

    error: str
    request_id: str
    details: list[dict[str, Any]] | msgspec.UnsetType = msgspec.UNSET  # validation only


BEARER: list[dict[str, list[str]]] = [{"BearerAuth": []}]
_REASONS = {
    400: "Invalid request: validation, malformed JSON, JSON nested deeper than "
    f"{MAX_JSON_DEPTH} levels, NUL in a JSON string, headers over {MAX_HEADER_BYTES} bytes",
    401: "Missing or invalid credentials (bearer token, or webhook signature)",
    403: "Not a member of the tenant, or a role too low for this operation",
    404: "Unknown resource (a tenant the caller does not belong to is unknown too)",
    409: "Conflict with the current state",
    413: "Request body too large",
    429: "Rate limited; retry after `Retry-After` seconds",
    502: "The store (Shopify) could not be reached or answered unexpectedly",
    503: "The database is busy or unreachable; retry later",
}
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# what reads or writes nothing in the database cannot be told "busy"
_NO_DATABASE = frozenset({"health", "status", "metrics"})

# Declared by the tenant dependency of the routes whose tenant comes from the header
# (api.auth.context), so that Litestar documents (and validates) it; the auth middleware has
# already read it to check the membership. Not a controller-wide parameter: those also bind
# Litestar's automatic OPTIONS answer.
TenantHeader = Annotated[
    uuid.UUID,
    HeaderParameter(
        name=TENANT_HEADER,
        required=True,
        description="The tenant (store) the request acts on; the caller must be a member.",
    ),
]


def _error_statuses(handler: HTTPRouteHandler, public: bool) -> set[int]:
    statuses = {400} | {exc.status_code for exc in handler.raises or ()}
    if not public:
        statuses.add(401)
    tenant = handler.opt.get("tenant")
    if tenant == "header" or handler.resolve_guards():
        statuses.add(403)
    if tenant == "path":
        statuses.add(404)
    if handler.http_methods & _WRITES:
        statuses.add(413)
    if handler.opt.get("auth_rate_limited"):
        statuses.add(429)
    if handler.operation_id not in _NO_DATABASE:
        statuses.add(503)
    return statuses


def document_errors(app: Litestar, public_paths: Iterable[str]) -> None:
    """Give every operation of `app` its error responses (before the schema is built).

    A response a handler already documents (`responses=`) is kept as it is."""
    public = [re.compile(pattern) for pattern in public_paths]
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            is_public = bool(handler.opt.get("exclude_from_auth")) or any(
                p.search(route.path) for p in public
            )
            responses = {
                status: ResponseSpec(
                    ErrorBody, generate_examples=False, description=_REASONS[status]
                )
                for status in sorted(_error_statuses(handler, is_public))
            }
            handler.responses = {**responses, **(handler.responses or {})}
