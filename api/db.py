"""The API's database access: every connection acts as `xeno_api`, every transaction is scoped.

Request handlers never see an owner connection. Each pooled connection runs
`SET ROLE xeno_api` (a role without ownership, superuser or BYPASSRLS) and a statement
timeout when it is opened; each transaction then sets `app.user_id` / `app.tenant_id`
with `set_config(..., true)`, so PostgreSQL row-level security scopes every query to the
tenant the guard admitted, and a query made without a tenant sees no tenant row at all.

Hot paths use the async pool; the few management operations that reuse `core`'s
synchronous functions (tenant creation, members) run on a small synchronous pool in a
worker thread, under the same role and scoping.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Protocol, TypeVar

import anyio.to_thread
import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from core.db import resolve_database_url
from core.settings import Settings

API_ROLE = "xeno_api"
T = TypeVar("T")

_SCOPE = "select set_config('app.user_id', %s, true), set_config('app.tenant_id', %s, true)"


class Scope(Protocol):
    """Whom a transaction acts for: the caller (`app.user_id`) and the tenant whose rows
    it may see (`app.tenant_id`; None: no tenant's). A `Principal` or a `TenantScope`."""

    @property
    def user_id(self) -> uuid.UUID: ...

    @property
    def tenant_id(self) -> uuid.UUID | None: ...


class UnsafeDatabaseRole(RuntimeError):
    """The API would run with a role that row-level security does not restrict."""


def _session_sql(settings: Settings) -> str:
    return f"set role {API_ROLE}; set statement_timeout = {int(settings.api.statement_timeout_ms)}"


def _scope_params(scope: Scope | None) -> tuple[str, str]:
    """`set_config`'s values: the empty string for no one, no tenant."""
    if scope is None:
        return "", ""
    return str(scope.user_id), "" if scope.tenant_id is None else str(scope.tenant_id)


class Database:
    """Connection pools of one API process (opened by the app's lifespan)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.api.database_url or resolve_database_url(settings)
        session_sql = _session_sql(settings)

        async def configure_async(conn: psycopg.AsyncConnection) -> None:
            await conn.set_autocommit(True)  # single statements need no BEGIN/COMMIT
            await conn.execute(session_sql)

        def configure_sync(conn: psycopg.Connection) -> None:
            conn.execute(session_sql)
            conn.commit()

        self.pool = AsyncConnectionPool(
            self.url,
            min_size=settings.database.pool_min,
            max_size=settings.database.pool_max,
            configure=configure_async,
            open=False,
            name="xeno-api",
        )
        self.sync_pool = ConnectionPool(
            self.url,
            min_size=0,
            max_size=4,
            configure=configure_sync,
            open=False,
            name="xeno-api-sync",
        )

    async def open(self) -> None:
        """Prepare the role (development), open the pools, refuse an unrestricted role."""
        if not self.settings.api.database_url:
            await anyio.to_thread.run_sync(self._ensure_api_role)
        await self.pool.open(wait=True, timeout=10)
        self.sync_pool.open()
        await self._check_role()

    async def close(self) -> None:
        await self.pool.close()
        self.sync_pool.close()

    def _ensure_api_role(self) -> None:
        """Development only: the owner connection (re)grants what the API role needs.

        Idempotent; it also secures mart tables dbt created since the last call.
        """
        with psycopg.connect(self.url, autocommit=True) as conn:
            for grants in (
                "app.ensure_api_role()",
                "app.grant_webhook_access()",
                "app.grant_analyst_access()",
            ):
                exists = conn.execute("select to_regprocedure(%s)", (grants,)).fetchone()
                if exists and exists[0]:
                    conn.execute(f"select {grants}")

    async def _check_role(self) -> None:
        try:
            async with self.pool.connection() as conn:
                row = await (
                    await conn.execute(
                        "select current_user, r.rolsuper, r.rolbypassrls, "
                        "pg_has_role(current_user, c.relowner, 'usage') "
                        "from pg_roles r, pg_class c "
                        "where r.rolname = current_user and c.oid = 'app.memberships'::regclass"
                    )
                ).fetchone()
        except psycopg.Error as exc:
            raise UnsafeDatabaseRole(
                f"cannot act as role {API_ROLE} ({exc}); create it and run "
                "`select app.ensure_api_role()` as the database owner (see docs/api.md)"
            ) from exc
        assert row is not None
        user, superuser, bypass, owns = row
        if user != API_ROLE or superuser or bypass or owns:
            raise UnsafeDatabaseRole(
                f"API database role {user!r} must be {API_ROLE}: not superuser, without "
                "BYPASSRLS and not the owner of the application tables"
            )

    @asynccontextmanager
    async def scoped(self, scope: Scope | None = None) -> AsyncIterator[psycopg.AsyncConnection]:
        """One transaction for `scope` (None: no user, no tenant rows visible)."""
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(_SCOPE, _scope_params(scope))
            yield conn

    async def run_scoped(self, fn: Callable[[psycopg.Connection], T], scope: Scope) -> T:
        """Run a synchronous `core` function in one scoped transaction, off the event loop."""

        def call() -> T:
            with self.sync_pool.connection() as conn, conn.transaction():
                conn.execute(_SCOPE, _scope_params(scope))
                return fn(conn)

        return await anyio.to_thread.run_sync(call)
