"""Requesting syncs and reading their progress, under the tenant's row-level security.

A request only records a queued run; the worker does the work. The partial unique index
on `app.sync_runs` allows one queued-or-running run per tenant, so a second request
gets the run already in progress instead of a duplicate.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import psycopg
from litestar.exceptions import NotFoundException
from psycopg.rows import class_row

from api.db import Database
from api.sync.schemas import SyncAccepted, SyncRunOut

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
    def __init__(self, db: Database, wake_worker: Callable[[], None]) -> None:
        self.db = db
        self.wake_worker = wake_worker

    async def request(
        self, user_id: uuid.UUID, tenant_id: uuid.UUID, *, full_refresh: bool
    ) -> SyncAccepted:
        async with self.db.scoped(user_id=user_id, tenant_id=tenant_id) as conn:
            try:
                async with conn.transaction():
                    row = await (
                        await conn.execute(
                            "insert into app.sync_runs (tenant_id, trigger, full_refresh) "
                            "values (%s, 'api', %s) returning id, status",
                            (tenant_id, full_refresh),
                        )
                    ).fetchone()
                message = "sync queued"
            except psycopg.errors.UniqueViolation:
                row = await (
                    await conn.execute(
                        "select id, status from app.sync_runs where tenant_id = %s "
                        "and status in ('queued', 'running')",
                        (tenant_id,),
                    )
                ).fetchone()
                message = "a sync of this store is already in progress"
        if row is None:  # the active run finished between the two statements
            return await self.request(user_id, tenant_id, full_refresh=full_refresh)
        self.wake_worker()
        return SyncAccepted(message=message, sync_id=row[0], status=row[1])

    async def get(self, user_id: uuid.UUID, tenant_id: uuid.UUID, sync_id: uuid.UUID) -> SyncRunOut:
        async with self.db.scoped(user_id=user_id, tenant_id=tenant_id) as conn:
            cur = conn.cursor(row_factory=class_row(SyncRunOut))
            await cur.execute(
                _RUNS + "where r.id = %s and r.tenant_id = %s",
                (sync_id, tenant_id),
            )
            run = await cur.fetchone()
        if run is None:
            raise NotFoundException("sync not found")
        return run

    async def recent(
        self, user_id: uuid.UUID, tenant_id: uuid.UUID, limit: int
    ) -> list[SyncRunOut]:
        async with self.db.scoped(user_id=user_id, tenant_id=tenant_id) as conn:
            cur = conn.cursor(row_factory=class_row(SyncRunOut))
            await cur.execute(
                _RUNS + "where r.tenant_id = %s order by r.requested_at desc, r.id limit %s",
                (tenant_id, limit),
            )
            return await cur.fetchall()
