"""Requesting syncs and reading their progress, under the tenant's row-level security.

A request only records a queued run (`ingestion.runs.request`); the worker
(`xeno worker`) does the work. The partial unique index on `app.sync_runs` allows one
queued-or-running run per tenant, so a second request gets the run already in progress
instead of a duplicate.
"""

from __future__ import annotations

import uuid

import psycopg
from litestar.exceptions import NotFoundException
from psycopg.rows import class_row

from api.auth.principal import TenantScope
from api.db import Database
from api.sync.schemas import SyncAccepted, SyncRunOut
from ingestion import runs

# A loaded run stays `transforming` until a dbt build of its tenant ends after the load
# (every build records itself in app.mart_builds, whoever ran it: worker, Dagster, CLI).
_RUNS = (
    "select r.id as sync_id, case when r.status = 'succeeded' and "
    "(b.built_at is null or b.built_at < r.finished_at) then 'transforming' "
    "else r.status end as status, r.trigger, r.full_refresh, r.requested_at, r.started_at, "
    "r.finished_at, r.rows_loaded, r.error, b.built_at as marts_built_at "
    "from app.sync_runs r left join app.mart_builds b on b.tenant_id = r.tenant_id "
)


class SyncService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def request(self, tenant: TenantScope, *, full_refresh: bool) -> SyncAccepted:
        def queue(conn: psycopg.Connection) -> tuple[runs.SyncRun, bool]:
            return runs.request(conn, tenant.tenant_id, trigger="api", full_refresh=full_refresh)

        run, created = await self.db.run_scoped(queue, tenant)
        message = "sync queued" if created else "a sync of this store is already in progress"
        return SyncAccepted(message=message, sync_id=run.id, status=run.status)

    async def get(self, tenant: TenantScope, sync_id: uuid.UUID) -> SyncRunOut:
        async with self.db.scoped(tenant) as conn:
            cur = conn.cursor(row_factory=class_row(SyncRunOut))
            await cur.execute(
                _RUNS + "where r.id = %s and r.tenant_id = %s",
                (sync_id, tenant.tenant_id),
            )
            run = await cur.fetchone()
        if run is None:
            raise NotFoundException("sync not found")
        return run

    async def recent(self, tenant: TenantScope, limit: int) -> list[SyncRunOut]:
        async with self.db.scoped(tenant) as conn:
            cur = conn.cursor(row_factory=class_row(SyncRunOut))
            await cur.execute(
                _RUNS + "where r.tenant_id = %s order by r.requested_at desc, r.id limit %s",
                (tenant.tenant_id, limit),
            )
            return await cur.fetchall()
