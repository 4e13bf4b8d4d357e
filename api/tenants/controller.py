"""`/tenant`: connect stores, manage them and their members."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from api.auth.guards import member, owner
from api.auth.principal import Principal
from api.errors import BadGatewayException, ConflictException
from api.openapi import BEARER
from api.tenants.schemas import (
    AddMemberRequest,
    CreateTenantRequest,
    MemberOut,
    TenantOut,
    UpdateTenantRequest,
)
from api.tenants.service import TenantService

Service = NamedDependency[TenantService]

AuthedRequest = Request[Principal, object, State]
IN_PATH = {"tenant": "path"}


class TenantController(Controller):
    path = "/tenant"
    tags = ["tenants"]
    security = BEARER

    @post(
        status_code=HTTP_201_CREATED,
        raises=[ConflictException, BadGatewayException],
        operation_id="createTenant",
    )
    async def create(
        self,
        data: CreateTenantRequest,
        request: AuthedRequest,
        tenant_service: Service,
    ) -> TenantOut:
        """Connect a store: the token is checked against it, then stored encrypted."""
        return await tenant_service.create(
            request.user.user_id,
            name=data.name,
            shopify_domain=data.shopify_domain,
            shopify_token=data.shopify_token,
            webhook_secret=data.webhook_secret,
        )

    @get(operation_id="listTenants")
    async def list_tenants(
        self, request: AuthedRequest, tenant_service: Service
    ) -> list[TenantOut]:
        """The tenants the caller belongs to."""
        return await tenant_service.list(request.user.user_id)

    @get("/{tenant_id:uuid}", opt=IN_PATH, guards=[member], operation_id="getTenant")
    async def get_tenant(
        self,
        tenant_id: uuid.UUID,
        request: AuthedRequest,
        tenant_service: Service,
    ) -> TenantOut:
        return await tenant_service.get(request.user.user_id, tenant_id)

    @patch(
        "/{tenant_id:uuid}",
        opt=IN_PATH,
        guards=[owner],
        raises=[BadGatewayException],
        operation_id="updateTenant",
    )
    async def update(
        self,
        tenant_id: uuid.UUID,
        data: UpdateTenantRequest,
        request: AuthedRequest,
        tenant_service: Service,
    ) -> TenantOut:
        """Rename, rotate the access token (verified against the store) or webhook secret."""
        return await tenant_service.update(
            request.user.user_id,
            tenant_id,
            name=data.name,
            shopify_token=data.shopify_token,
            webhook_secret=data.webhook_secret,
        )

    @delete(
        "/{tenant_id:uuid}",
        opt=IN_PATH,
        guards=[owner],
        status_code=HTTP_204_NO_CONTENT,
        raises=[ConflictException],
        operation_id="deleteTenant",
    )
    async def delete_tenant(
        self,
        tenant_id: uuid.UUID,
        request: AuthedRequest,
        tenant_service: Service,
    ) -> None:
        """Disconnect the store: its raw data and mart rows are deleted."""
        await tenant_service.delete(request.user.user_id, tenant_id)

    @get("/{tenant_id:uuid}/members", opt=IN_PATH, guards=[owner], operation_id="listMembers")
    async def list_members(
        self,
        tenant_id: uuid.UUID,
        request: AuthedRequest,
        tenant_service: Service,
    ) -> list[MemberOut]:
        return await tenant_service.members(request.user.user_id, tenant_id)

    @post(
        "/{tenant_id:uuid}/members",
        opt=IN_PATH,
        guards=[owner],
        status_code=HTTP_201_CREATED,
        raises=[ConflictException],
        operation_id="addMember",
    )
    async def add_member(
        self,
        tenant_id: uuid.UUID,
        data: AddMemberRequest,
        request: AuthedRequest,
        tenant_service: Service,
    ) -> MemberOut:
        """Give a registered user (by email) a role in the tenant."""
        return await tenant_service.add_member(
            request.user.user_id, tenant_id, email=data.email, role=data.role
        )

    @delete(
        "/{tenant_id:uuid}/members/{email:str}",
        opt=IN_PATH,
        guards=[owner],
        status_code=HTTP_204_NO_CONTENT,
        raises=[ConflictException],
        operation_id="removeMember",
    )
    async def remove_member(
        self,
        tenant_id: uuid.UUID,
        email: str,
        request: AuthedRequest,
        tenant_service: Service,
    ) -> None:
        await tenant_service.remove_member(request.user.user_id, tenant_id, email=email)
