"""Analyst access of one tenant: SQL logins, as its owner (the owner-checked database
doors `app.owner_grant_analyst` / `app.owner_revoke_analyst` through `core.analysts`),
and DuckDB snapshots of its marts, read as the API role under row-level security."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import anyio.to_thread
import psycopg
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from psycopg.rows import class_row

from api.analysts.schemas import AnalystGrantOut, GrantedAnalystOut
from api.auth.principal import TenantScope
from api.db import API_ROLE, Database
from core import analysts
from core.audit import record as audit
from core.db import resolve_database_url
from core.settings import Settings
from dbt_project.export import export_tenant


class AnalystService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        # A snapshot holds a thread and a connection for seconds: two at a time per process.
        self.export_limiter = anyio.CapacityLimiter(2)

    async def grant(self, tenant: TenantScope, login: str) -> GrantedAnalystOut:
        # The analyst's URL names the warehouse as DATABASE_URL does (host, port, TLS),
        # never the API's own login (API_DATABASE_URL).
        base_url = resolve_database_url(self.settings)

        def apply(conn: psycopg.Connection) -> analysts.Granted:
            return analysts.grant(
                conn,
                tenant.tenant_id,
                login,
                actor=f"user:{tenant.user_id}",
                as_owner=True,
                settings=self.settings,
                base_url=base_url,
            )

        try:
            granted = await self.db.run_scoped(apply, tenant)
        except analysts.AnalystError as exc:
            raise ClientException(str(exc)) from None
        except psycopg.errors.InsufficientPrivilege as exc:
            raise PermissionDeniedException("this needs the owner role in the tenant") from exc
        return GrantedAnalystOut(
            granted.login, granted.tenant_id, granted.created, granted.connection_url
        )

    async def revoke(self, tenant: TenantScope, login: str) -> None:
        def apply(conn: psycopg.Connection) -> bool:
            actor = f"user:{tenant.user_id}"
            return analysts.revoke(conn, tenant.tenant_id, login, actor=actor, as_owner=True)

        if not await self.db.run_scoped(apply, tenant):
            raise NotFoundException(f"login {login} has no access to this tenant")

    async def list(self, tenant: TenantScope) -> list[AnalystGrantOut]:
        async with self.db.scoped(tenant) as conn:
            cur = conn.cursor(row_factory=class_row(AnalystGrantOut))
            await cur.execute(
                "select login, tenant_id, granted_at, granted_by from app.analyst_grants "
                "where tenant_id = %s order by login",
                (tenant.tenant_id,),
            )
            return await cur.fetchall()

    async def snapshot(self, tenant: TenantScope) -> Path:
        """A DuckDB file of the tenant's marts in a folder of its own; the caller removes
        the folder once the file is sent. Audited."""
        folder = Path(tempfile.mkdtemp(prefix="export-", dir=self._exports_dir()))
        path = folder / f"xeno-{tenant.tenant_id}.duckdb"

        def write() -> int:
            result = export_tenant(
                tenant.tenant_id,
                path,
                url=self.db.url,
                role=API_ROLE,
                statement_timeout_ms=self.settings.analysts.statement_timeout_ms,
            )
            return sum(result.rows.values())

        try:
            rows = await anyio.to_thread.run_sync(write, limiter=self.export_limiter)

            def record(conn: psycopg.Connection) -> None:
                audit(
                    conn,
                    actor=f"user:{tenant.user_id}",
                    tenant_id=tenant.tenant_id,
                    action="marts.exported",
                    detail={"rows": rows, "format": "duckdb"},
                )

            await self.db.run_scoped(record, tenant)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return path

    def _exports_dir(self) -> Path:
        folder = self.settings.data_dir / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
