"""`/shopify/sync`: request a sync of the tenant's store and follow it."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED

from api.auth.guards import analyst, member
from api.auth.principal import Principal
from api.openapi import BEARER, TenantHeader
from api.sync.schemas import SyncAccepted, SyncRequest, SyncRunOut
from api.sync.service import SyncService

Service = NamedDependency[SyncService]

AuthedRequest = Request[Principal, object, State]


class SyncController(Controller):
    path = "/shopify/sync"
    tags = ["sync"]
    opt = {"tenant": "header"}
    guards = [member]
    security = BEARER

    @post(status_code=HTTP_202_ACCEPTED, guards=[analyst], operation_id="requestSync")
    async def request_sync(
        self,
        request: AuthedRequest,
        x_tenant_id: TenantHeader,
        sync_service: Service,
        data: SyncRequest | None = None,
    ) -> SyncAccepted:
        """Queue a sync (store -> raw schema -> marts); answers at once with its id."""
        return await sync_service.request(
            request.user.user_id,
            request.user.scope.tenant_id,
            full_refresh=bool(data and data.full_refresh),
        )

    @get("/{sync_id:uuid}", raises=[NotFoundException], operation_id="getSync")
    async def get_sync(
        self,
        sync_id: uuid.UUID,
        request: AuthedRequest,
        x_tenant_id: TenantHeader,
        sync_service: Service,
    ) -> SyncRunOut:
        """Status and rows loaded per resource."""
        return await sync_service.get(request.user.user_id, request.user.scope.tenant_id, sync_id)

    @get(operation_id="listSyncs")
    async def list_syncs(
        self,
        request: AuthedRequest,
        x_tenant_id: TenantHeader,
        sync_service: Service,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> list[SyncRunOut]:
        """The tenant's most recent syncs, newest first."""
        return await sync_service.recent(request.user.user_id, request.user.scope.tenant_id, limit)
