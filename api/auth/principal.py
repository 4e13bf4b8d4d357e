"""Who is calling, and what they may do in the tenant the request names."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

ROLES = ("viewer", "analyst", "owner")  # ascending power


class TenantAccess(msgspec.Struct, frozen=True):
    """The caller's membership in the request's tenant (role None: not a member), and the
    tenant's last mart build (None: none recorded), the version read caches key on."""

    tenant_id: uuid.UUID
    role: str | None
    marts_built_at: datetime | None = None

    def at_least(self, role: str) -> bool:
        return self.role is not None and ROLES.index(self.role) >= ROLES.index(role)


class Principal(msgspec.Struct, frozen=True):
    """An authenticated user (from a verified access token)."""

    user_id: uuid.UUID
    email: str
    tenant: TenantAccess | None = None

    @property
    def tenant_id(self) -> uuid.UUID | None:
        """The tenant the route acts in (None on routes without one): with `user_id`, the
        scope of the caller's transactions (api.db)."""
        return self.tenant.tenant_id if self.tenant is not None else None


class TenantScope(msgspec.Struct, frozen=True):
    """A member the guards admitted into the request's tenant: what a tenant route's
    transactions act as and in (api.db), and the marts version read caches key on."""

    user_id: uuid.UUID
    tenant_id: uuid.UUID
    marts_built_at: datetime | None = None
