"""`/tenant/{id}/analysts`: an owner's read-only SQL logins on the tenant's marts;
`/tenant/{id}/export` and `/tenant/{id}/model-docs`: a DuckDB snapshot of them and the
model docs, for owners and analysts."""

from __future__ import annotations

import shutil
import uuid

from litestar import Controller, Request, delete, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.response import File
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from api.analysts.schemas import AnalystGrantOut, GrantAnalystRequest, GrantedAnalystOut
from api.analysts.service import AnalystService
from api.auth.guards import analyst, owner
from api.auth.principal import Principal
from api.openapi import BEARER
from core.settings import Settings
from dbt_project import layout

Service = NamedDependency[AnalystService]

AuthedRequest = Request[Principal, object, State]
IN_PATH = {"tenant": "path"}


class AnalystController(Controller):
    path = "/tenant/{tenant_id:uuid}/analysts"
    security = BEARER
    tags = ["analysts"]
    guards = [owner]
    opt = IN_PATH

    @get(operation_id="listAnalysts")
    async def list_analysts(
        self, tenant_id: uuid.UUID, request: AuthedRequest, analyst_service: Service
    ) -> list[AnalystGrantOut]:
        """SQL logins that may read this tenant's marts."""
        return await analyst_service.list(request.user.user_id, tenant_id)

    @post(status_code=HTTP_201_CREATED, operation_id="grantAnalyst")
    async def grant(
        self,
        tenant_id: uuid.UUID,
        data: GrantAnalystRequest,
        request: AuthedRequest,
        analyst_service: Service,
    ) -> GrantedAnalystOut:
        """Let a PostgreSQL login read this tenant's mart rows (read-only, row-level
        security); a new login's password is in the answer, once."""
        return await analyst_service.grant(request.user.user_id, tenant_id, data.login)

    @delete("/{login:str}", status_code=HTTP_204_NO_CONTENT, operation_id="revokeAnalyst")
    async def revoke(
        self,
        tenant_id: uuid.UUID,
        login: str,
        request: AuthedRequest,
        analyst_service: Service,
    ) -> None:
        """Take the tenant away from a login, effective on its next query."""
        await analyst_service.revoke(request.user.user_id, tenant_id, login)


class AnalystToolsController(Controller):
    path = "/tenant/{tenant_id:uuid}"
    security = BEARER
    tags = ["analysts"]
    guards = [analyst]
    opt = IN_PATH

    @get("/export", operation_id="exportMarts", media_type="application/vnd.duckdb")
    async def export(
        self, tenant_id: uuid.UUID, request: AuthedRequest, analyst_service: Service
    ) -> File:
        """Every mart of the tenant as one DuckDB file (a table per mart, exact DECIMAL
        money, a README table); open it with `duckdb xeno-<tenant>.duckdb`."""
        path = await analyst_service.snapshot(request.user.user_id, tenant_id)
        return File(
            path,
            filename=path.name,
            media_type="application/vnd.duckdb",
            background=BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True),
        )

    @get("/model-docs", operation_id="modelDocs", media_type="text/html")
    async def model_docs(self, tenant_id: uuid.UUID, settings: Settings) -> File:
        """dbt's docs of the marts (columns, descriptions, tests, lineage) as one HTML
        file to save and open; the same for every tenant, so it holds no tenant data."""
        path = layout.docs_file(settings.data_dir)
        if not path.exists():
            raise NotFoundException("model docs are not generated yet: run `xeno docs generate`")
        return File(path, filename="xeno-model-docs.html", media_type="text/html")
