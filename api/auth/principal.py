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
    def scope(self) -> TenantAccess:
        """The request's tenant, on routes whose guard requires one (`member` and up)."""
        if self.tenant is None:
            raise LookupError("this route names no tenant; it must be guarded by `member`")
        return self.tenant
