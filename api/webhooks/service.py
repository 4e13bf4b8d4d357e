"""Registering a tenant's webhooks and reading its event log, as the calling user."""

from __future__ import annotations

from collections import Counter

import anyio.to_thread
import psycopg
from litestar.exceptions import PermissionDeniedException
from psycopg.rows import class_row

from api.auth.principal import TenantScope
from api.db import Database
from api.errors import BadGatewayException
from api.webhooks import registration
from api.webhooks.schemas import Registration, WebhookEventOut
from core import crypto
from core.audit import record as audit
from core.settings import Settings
from ingestion.graphql import ShopifyError


class WebhookService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def register(self, tenant: TenantScope) -> Registration:
        async with self.db.scoped(tenant) as conn:
            row = await (
                await conn.execute(
                    "select t.shop_domain, app.owner_access_token(t.id, %s) "
                    "from app.tenants t where t.id = %s",
                    (tenant.user_id, tenant.tenant_id),
                )
            ).fetchone()
        if row is None or row[1] is None:
            raise PermissionDeniedException("only an owner may register webhooks")
        address = registration.webhook_address(self.settings, tenant.tenant_id)
        try:
            results = await anyio.to_thread.run_sync(
                registration.register,
                row[0],
                crypto.decrypt(row[1], self.settings),
                address,
                self.settings,
            )
        except ShopifyError as exc:
            raise BadGatewayException(f"could not list the store's webhooks: {exc}") from None
        counts: Counter[str] = Counter(r.status for r in results)

        def record(conn: psycopg.Connection) -> None:
            audit(conn, actor=f"user:{tenant.user_id}", tenant_id=tenant.tenant_id,
                  action="webhooks.registered", detail=dict(counts))  # fmt: skip

        await self.db.run_scoped(record, tenant)
        message = (
            f"{counts['created']} created, {counts['exists']} already registered, "
            f"{counts['failed']} failed"
        )
        return Registration(
            message=message,
            webhooks=results,
            compliance_address=registration.compliance_address(self.settings),
        )

    async def events(
        self, tenant: TenantScope, status: str | None, limit: int
    ) -> list[WebhookEventOut]:
        async with self.db.scoped(tenant) as conn:
            cur = conn.cursor(row_factory=class_row(WebhookEventOut))
            await cur.execute(
                "select id, webhook_id, topic, status, received_at, applied_at, attempts, error "
                "from app.webhook_events where tenant_id = %s and (%s::text is null or status = %s)"
                " order by id desc limit %s",
                (tenant.tenant_id, status, status, limit),
            )
            return await cur.fetchall()
