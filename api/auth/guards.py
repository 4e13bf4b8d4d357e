"""Authorisation as pure functions of the principal (loaded by the auth middleware).

A non-member gets 403 when the tenant comes from `x-tenant-id` and 404 when it is the
resource in the path (an id the caller has no business knowing exists).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from api.auth.principal import Principal, TenantAccess

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


def _membership(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> TenantAccess:
    principal: Principal = connection.user
    access = principal.tenant
    if access is None:  # a route wired without a tenant source: a programming error
        raise RuntimeError(f"{handler.handler_name} has a tenant guard but no tenant source")
    if access.role is None:
        if handler.opt.get("tenant") == "path":
            raise NotFoundException("tenant not found")
        raise PermissionDeniedException("you are not a member of this tenant")
    return access


def requires_role(role: str) -> Guard:
    """Guard: the caller is a member of the request's tenant with at least `role`."""

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        # async only so Litestar calls it inline: a sync guard would go to a thread pool
        if connection.scope.get("method") == "OPTIONS":
            return  # Litestar's automatic OPTIONS answer: no user (auth skips it), no data
        if not _membership(connection, handler).at_least(role):
            raise PermissionDeniedException(f"this needs the {role} role in the tenant")

    guard.__name__ = f"requires_{role}"
    return guard


member = requires_role("viewer")
analyst = requires_role("analyst")
owner = requires_role("owner")
