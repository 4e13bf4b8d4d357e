"""Authentication: a verified bearer token, and the caller's role in the named tenant.

Routes opt in to a tenant with `opt={"tenant": "header"}` (`x-tenant-id`) or
`opt={"tenant": "path"}` (the `tenant_id` path parameter). The membership is looked up
here, once, so that authorisation itself is a set of pure guards over the principal.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException, NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from api.auth.principal import Principal, TenantAccess
from api.auth.tokens import InvalidToken, decode_access_token
from api.db import Database
from api.system.metrics import AUTH_REJECTED
from core.settings import Settings

TENANT_HEADER = "x-tenant-id"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="xeno"'}
_ACCESS = "select app.member_role(%(t)s, %(u)s), app.mart_built_at(%(t)s, %(u)s)"


def _tenant_id(connection: ASGIConnection[Any, Any, Any, Any], source: str) -> uuid.UUID:
    if source == "path":
        value = connection.path_params["tenant_id"]
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    raw = connection.headers.get(TENANT_HEADER)
    if not raw:
        raise ClientException(f"the {TENANT_HEADER} header is required")
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ClientException(f"the {TENANT_HEADER} header must be a tenant id (UUID)") from None


class AuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: ASGIApp, *, db: Database, settings: Settings, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.db = db
        self.settings = settings

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            AUTH_REJECTED.labels("missing").inc()
            raise NotAuthorizedException("missing bearer token", headers=_CHALLENGE)
        try:
            claims = decode_access_token(token.strip(), self.settings)
        except InvalidToken:
            AUTH_REJECTED.labels("invalid").inc()
            raise NotAuthorizedException("invalid or expired token", headers=_CHALLENGE) from None
        source = connection.route_handler.opt.get("tenant")
        tenant = None
        if source:
            tenant_id = _tenant_id(connection, source)
            tenant = await self._access(claims.sub, tenant_id)
        return AuthenticationResult(Principal(claims.sub, claims.email, tenant), claims)

    async def _access(self, user_id: uuid.UUID, tenant_id: uuid.UUID) -> TenantAccess:
        """One statement (`app.member_role`, `app.mart_built_at`: narrow definer functions):
        this runs on every tenant request, so role and marts version share one round trip
        (a cached dashboard then needs no other)."""
        async with self.db.pool.connection() as conn:
            row = await (await conn.execute(_ACCESS, {"t": tenant_id, "u": user_id})).fetchone()
        role, built_at = row if row else (None, None)
        return TenantAccess(tenant_id, role, built_at)
