"""Tenants and memberships, always as the calling user (`app.user_id`) under RLS.

Creation and member changes reuse `core.tenants` (encryption, audit) through the
synchronous scoped path; reads are async. The caller's role was already checked by the
route's guard; row-level security is the second wall.
"""

from __future__ import annotations

import builtins
import uuid

import psycopg
from litestar.exceptions import ClientException, NotFoundException
from psycopg import sql
from psycopg.rows import class_row

from api.auth.principal import Principal, TenantScope
from api.db import Database
from api.errors import ConflictException
from api.tenants.schemas import MemberOut, TenantOut
from api.tenants.store_check import verify_store_token
from core import crypto, tenants
from core.audit import record as audit
from core.settings import Settings

_TENANT_SELECT = (
    "select t.id, t.name, t.shop_domain as shopify_domain, t.created_by as user_id, "
    "t.created_at, t.updated_at, m.role "
    "from app.memberships m join app.tenants t on t.id = m.tenant_id where m.user_id = %s"
)


class TenantService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def create(
        self,
        caller: Principal,
        *,
        name: str,
        shopify_domain: str,
        shopify_token: str,
        webhook_secret: str | None,
    ) -> TenantOut:
        try:
            domain = tenants.validate_shop_domain(shopify_domain)
        except tenants.TenantError as exc:
            raise ClientException(str(exc)) from None
        if not name.strip() or not shopify_token.strip():
            raise ClientException("name and shopifyToken must not be blank")
        # The token first: only whoever holds the store's token may learn it is connected
        # (a 409 before the check would let anyone enumerate connected stores).
        await verify_store_token(domain, shopify_token.strip(), self.settings)
        async with self.db.scoped(caller) as conn:
            taken = await (
                await conn.execute("select 1 from app.tenants where shop_domain = %s", (domain,))
            ).fetchone()
        if taken:
            raise ConflictException(f"store {domain} is already connected")

        def insert(conn: psycopg.Connection) -> tenants.Tenant:
            return tenants.create(
                conn,
                name=name,
                shop_domain=domain,
                access_token=shopify_token,
                webhook_secret=webhook_secret,
                settings=self.settings,
                owner_id=caller.user_id,
                actor=f"user:{caller.user_id}",
            )

        try:
            tenant = await self.db.run_scoped(insert, caller)
        except tenants.TenantExists as exc:
            raise ConflictException(str(exc)) from None
        return await self.get(TenantScope(caller.user_id, tenant.id))

    async def list(self, caller: Principal) -> list[TenantOut]:
        async with self.db.scoped(caller) as conn:
            cur = conn.cursor(row_factory=class_row(TenantOut))
            await cur.execute(_TENANT_SELECT + " order by t.created_at, t.id", (caller.user_id,))
            return await cur.fetchall()

    async def get(self, tenant: TenantScope) -> TenantOut:
        async with self.db.scoped(tenant) as conn:
            cur = conn.cursor(row_factory=class_row(TenantOut))
            await cur.execute(_TENANT_SELECT + " and t.id = %s", (tenant.user_id, tenant.tenant_id))
            found = await cur.fetchone()
        if found is None:
            raise NotFoundException("tenant not found")
        return found

    async def update(
        self,
        tenant: TenantScope,
        *,
        name: str | None,
        shopify_token: str | None,
        webhook_secret: str | None,
    ) -> TenantOut:
        changes: dict[str, object] = {}
        if name is not None:
            if not name.strip():
                raise ClientException("name must not be blank")
            changes["name"] = name.strip()
        if shopify_token is not None:
            if not shopify_token.strip():
                raise ClientException("shopifyToken must not be blank")
            current = await self.get(tenant)
            await verify_store_token(current.shopify_domain, shopify_token.strip(), self.settings)
            changes["access_token_encrypted"] = crypto.encrypt(shopify_token.strip(), self.settings)
        if webhook_secret is not None:
            changes["webhook_secret_encrypted"] = crypto.encrypt(webhook_secret, self.settings)
        if not changes:
            raise ClientException("nothing to change: give name, shopifyToken or webhookSecret")

        def apply(conn: psycopg.Connection) -> None:
            assignments = sql.SQL(", ").join(
                sql.SQL("{} = %s").format(sql.Identifier(column)) for column in changes
            )
            conn.execute(
                sql.SQL("update app.tenants set {}, updated_at = now() where id = %s").format(
                    assignments
                ),
                (*changes.values(), tenant.tenant_id),
            )
            audit(
                conn,
                actor=f"user:{tenant.user_id}",
                tenant_id=tenant.tenant_id,
                action="tenant.updated",
                detail={"fields": sorted(changes)},
            )

        await self.db.run_scoped(apply, tenant)
        return await self.get(tenant)

    async def delete(self, tenant: TenantScope) -> None:
        """Remove the tenant, its raw schema and its mart rows (`app.purge_tenant`)."""

        def purge(conn: psycopg.Connection) -> None:
            busy = conn.execute(
                "select 1 from app.sync_runs "
                "where tenant_id = %s and status in ('queued', 'running')",
                (tenant.tenant_id,),
            ).fetchone()
            if busy:
                raise ConflictException("a sync of this tenant is queued or running; retry later")
            audit(
                conn,
                actor=f"user:{tenant.user_id}",
                tenant_id=tenant.tenant_id,
                action="tenant.deleted",
            )
            conn.execute("select app.purge_tenant(%s)", (tenant.tenant_id,))

        await self.db.run_scoped(purge, tenant)

    async def members(self, tenant: TenantScope) -> builtins.list[MemberOut]:
        async with self.db.scoped(tenant) as conn:
            cur = conn.cursor(row_factory=class_row(MemberOut))
            await cur.execute(
                "select m.user_id, u.email, m.role, m.created_at from app.memberships m "
                "join app.users u on u.id = m.user_id where m.tenant_id = %s "
                "order by m.created_at, u.email",
                (tenant.tenant_id,),
            )
            return await cur.fetchall()

    async def add_member(self, tenant: TenantScope, *, email: str, role: str) -> MemberOut:
        def add(conn: psycopg.Connection) -> uuid.UUID:
            try:
                member_id = tenants.user_id_by_email(conn, email)
            except tenants.TenantError:
                raise NotFoundException(
                    "no user with that email; they must register first"
                ) from None
            exists = conn.execute(
                "select 1 from app.memberships where tenant_id = %s and user_id = %s",
                (tenant.tenant_id, member_id),
            ).fetchone()
            if exists:
                raise ConflictException("that user is already a member of this tenant")
            tenants.add_member(conn, tenant.tenant_id, member_id, role)
            audit(
                conn,
                actor=f"user:{tenant.user_id}",
                tenant_id=tenant.tenant_id,
                action="member.added",
                detail={"user_id": str(member_id), "role": role},
            )
            return member_id

        member_id = await self.db.run_scoped(add, tenant)
        return next(m for m in await self.members(tenant) if m.user_id == member_id)

    async def remove_member(self, tenant: TenantScope, *, email: str) -> None:
        """Remove a member by email; the last owner cannot be removed (nobody could manage it)."""
        email = email.strip().lower()

        def remove(conn: psycopg.Connection) -> None:
            rows = conn.execute(
                "select m.user_id, u.email, m.role from app.memberships m "
                "join app.users u on u.id = m.user_id where m.tenant_id = %s for update of m",
                (tenant.tenant_id,),
            ).fetchall()
            target = next((r for r in rows if r[1] == email), None)
            if target is None:
                raise NotFoundException("no member with that email")
            owners = sum(1 for r in rows if r[2] == "owner")
            if target[2] == "owner" and owners == 1:
                raise ConflictException("the last owner cannot be removed")
            conn.execute(
                "delete from app.memberships where tenant_id = %s and user_id = %s",
                (tenant.tenant_id, target[0]),
            )
            audit(
                conn,
                actor=f"user:{tenant.user_id}",
                tenant_id=tenant.tenant_id,
                action="member.removed",
                detail={"user_id": str(target[0])},
            )

        await self.db.run_scoped(remove, tenant)
