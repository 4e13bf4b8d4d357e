"""`/shopify/sync`: request a sync of the tenant's store and follow it."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED

from api.auth.context import Tenant, TenantHeaderController
from api.auth.guards import analyst
from api.services import provide
from api.sync.schemas import SyncAccepted, SyncRequest, SyncRunOut
from api.sync.service import SyncService

Service = NamedDependency[SyncService]


class SyncController(TenantHeaderController):
    path = "/shopify/sync"
    tags = ["sync"]
    dependencies = {
        **TenantHeaderController.dependencies,
        "service": provide(lambda services: services.sync),
    }

    @post(status_code=HTTP_202_ACCEPTED, guards=[analyst], operation_id="requestSync")
    async def request_sync(
        self, tenant: Tenant, service: Service, data: JSONBody[SyncRequest | None] = None
    ) -> SyncAccepted:
        """Queue a sync (store -> raw schema -> marts); answers at once with its id."""
        return await service.request(tenant, full_refresh=bool(data and data.full_refresh))

    @get("/{sync_id:uuid}", raises=[NotFoundException], operation_id="getSync")
    async def get_sync(
        self, sync_id: FromPath[uuid.UUID], tenant: Tenant, service: Service
    ) -> SyncRunOut:
        """Status and rows loaded per resource."""
        return await service.get(tenant, sync_id)

    @get(operation_id="listSyncs")
    async def list_syncs(
        self,
        tenant: Tenant,
        service: Service,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> list[SyncRunOut]:
        """The tenant's most recent syncs, newest first."""
        return await service.recent(tenant, limit)
