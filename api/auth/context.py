"""The request context, as Litestar dependencies: `principal` (the caller, on every
authenticated route) and `tenant` (the tenant scope the guards admitted the caller into).

A tenant route names where its tenant comes from twice, side by side: in its `opt`, for
the auth middleware, which verifies the token and looks up the membership before the
guards run; and in the `tenant` dependency of its controller, which declares that header
or path parameter (so Litestar documents and validates it) and hands the scope to the
handlers that ask. No handler reads `request.user` itself.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from api.auth.guards import member
from api.auth.principal import Principal, TenantScope
from api.openapi import BEARER, TenantHeader

AuthedRequest = Request[Principal, Any, Any]
Caller = NamedDependency[Principal]
Tenant = NamedDependency[TenantScope]


async def _principal(request: AuthedRequest) -> Principal:
    return request.user


async def _tenant(request: AuthedRequest) -> TenantScope:
    principal = request.user
    access = principal.tenant
    if access is None:  # a route wired without a tenant source: a programming error
        raise RuntimeError(f"{request.route_handler.handler_name} needs a tenant source")
    return TenantScope(principal.user_id, access.tenant_id, access.marts_built_at)


async def _tenant_in_header(request: AuthedRequest, x_tenant_id: TenantHeader) -> TenantScope:
    return await _tenant(request)


async def _tenant_in_path(request: AuthedRequest, tenant_id: FromPath[uuid.UUID]) -> TenantScope:
    return await _tenant(request)


REQUEST_CONTEXT = {"principal": Provide(_principal)}
# Routes whose tenant is the `tenant_id` path parameter (a non-member gets 404): the
# `opt` of each such route, and its controller's dependencies.
TENANT_IN_PATH = {"tenant": "path"}
TENANT_FROM_PATH = {"tenant": Provide(_tenant_in_path)}


class TenantHeaderController(Controller):
    """Routes that act in the tenant named by `x-tenant-id`: members only (a handler may
    ask for a higher role), the tenant scope as `tenant`."""

    opt = {"tenant": "header"}
    guards = [member]
    security = BEARER
    dependencies = {"tenant": Provide(_tenant_in_header)}
