"""`/tenant/{id}/analysts`: an owner's read-only SQL logins on the tenant's marts;
`/tenant/{id}/export` and `/tenant/{id}/model-docs`: a DuckDB snapshot of them and the
model docs, for owners and analysts."""

from __future__ import annotations

import shutil
import uuid

from litestar import Controller, delete, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody
from litestar.response import File
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from api.analysts.schemas import AnalystGrantOut, GrantAnalystRequest, GrantedAnalystOut
from api.analysts.service import AnalystService
from api.auth.context import TENANT_FROM_PATH, TENANT_IN_PATH, Tenant
from api.auth.guards import analyst, owner
from api.openapi import BEARER
from api.services import provide
from core.settings import Settings
from dbt_project import layout

Service = NamedDependency[AnalystService]

DEPENDENCIES = {**TENANT_FROM_PATH, "service": provide(lambda services: services.analysts)}


class AnalystController(Controller):
    path = "/tenant/{tenant_id:uuid}/analysts"
    security = BEARER
    tags = ["analysts"]
    guards = [owner]
    opt = TENANT_IN_PATH
    dependencies = DEPENDENCIES

    @get(operation_id="listAnalysts")
    async def list_analysts(self, tenant: Tenant, service: Service) -> list[AnalystGrantOut]:
        """SQL logins that may read this tenant's marts."""
        return await service.list(tenant)

    @post(status_code=HTTP_201_CREATED, operation_id="grantAnalyst")
    async def grant(
        self, data: JSONBody[GrantAnalystRequest], tenant: Tenant, service: Service
    ) -> GrantedAnalystOut:
        """Let a PostgreSQL login read this tenant's mart rows (read-only, row-level
        security); a new login's password is in the answer, once."""
        return await service.grant(tenant, data.login)

    @delete("/{login:str}", status_code=HTTP_204_NO_CONTENT, operation_id="revokeAnalyst")
    async def revoke(self, tenant: Tenant, login: FromPath[str], service: Service) -> None:
        """Take the tenant away from a login, effective on its next query."""
        await service.revoke(tenant, login)


class AnalystToolsController(Controller):
    path = "/tenant/{tenant_id:uuid}"
    security = BEARER
    tags = ["analysts"]
    guards = [analyst]
    opt = TENANT_IN_PATH
    dependencies = {**DEPENDENCIES, "settings": provide(lambda services: services.settings)}

    @get("/export", operation_id="exportMarts", media_type="application/vnd.duckdb")
    async def export(self, tenant: Tenant, service: Service) -> File:
        """Every mart of the tenant as one DuckDB file (a table per mart, exact DECIMAL
        money, a README table); open it with `duckdb xeno-<tenant>.duckdb`."""
        path = await service.snapshot(tenant)
        return File(
            path,
            filename=path.name,
            media_type="application/vnd.duckdb",
            background=BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True),
        )

    @get("/model-docs", operation_id="modelDocs", media_type="text/html")
    async def model_docs(
        self, tenant_id: FromPath[uuid.UUID], settings: NamedDependency[Settings]
    ) -> File:
        """dbt's docs of the marts (columns, descriptions, tests, lineage) as one HTML
        file to save and open; the same for every tenant, so it holds no tenant data
        (`tenant_id` only names the route, for the guard)."""
        path = layout.docs_file(settings.data_dir)
        if not path.exists():
            raise NotFoundException("model docs are not generated yet: run `xeno docs generate`")
        return File(path, filename="xeno-model-docs.html", media_type="text/html")
