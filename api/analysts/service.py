"""Analyst logins of one tenant, as its owner: the owner-checked database doors
(`app.owner_grant_analyst` / `app.owner_revoke_analyst`) through `core.analysts`."""

from __future__ import annotations

import uuid

import psycopg
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from psycopg.rows import class_row

from api.analysts.schemas import AnalystGrantOut, GrantedAnalystOut
from api.db import Database
from core import analysts
from core.db import resolve_database_url
from core.settings import Settings


class AnalystService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def grant(
        self, user_id: uuid.UUID, tenant_id: uuid.UUID, login: str
    ) -> GrantedAnalystOut:
        # The analyst's URL names the warehouse as DATABASE_URL does (host, port, TLS),
        # never the API's own login (API_DATABASE_URL).
        base_url = resolve_database_url(self.settings)

        def apply(conn: psycopg.Connection) -> analysts.Granted:
            return analysts.grant(
                conn,
                tenant_id,
                login,
                actor=f"user:{user_id}",
                as_owner=True,
                settings=self.settings,
                base_url=base_url,
            )

        try:
            granted = await self.db.run_scoped(apply, user_id=user_id, tenant_id=tenant_id)
        except analysts.AnalystError as exc:
            raise ClientException(str(exc)) from None
        except psycopg.errors.InsufficientPrivilege as exc:
            raise PermissionDeniedException("this needs the owner role in the tenant") from exc
        return GrantedAnalystOut(
            granted.login, granted.tenant_id, granted.created, granted.connection_url
        )

    async def revoke(self, user_id: uuid.UUID, tenant_id: uuid.UUID, login: str) -> None:
        def apply(conn: psycopg.Connection) -> bool:
            return analysts.revoke(conn, tenant_id, login, actor=f"user:{user_id}", as_owner=True)

        if not await self.db.run_scoped(apply, user_id=user_id, tenant_id=tenant_id):
            raise NotFoundException(f"login {login} has no access to this tenant")

    async def list(self, user_id: uuid.UUID, tenant_id: uuid.UUID) -> list[AnalystGrantOut]:
        async with self.db.scoped(user_id=user_id, tenant_id=tenant_id) as conn:
            cur = conn.cursor(row_factory=class_row(AnalystGrantOut))
            await cur.execute(
                "select login, tenant_id, granted_at, granted_by from app.analyst_grants "
                "where tenant_id = %s order by login",
                (tenant_id,),
            )
            return await cur.fetchall()
