"""`/tenant`: connect stores, manage them and their members."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from api.auth.context import TENANT_FROM_PATH, TENANT_IN_PATH, Caller, Tenant
from api.auth.guards import member, owner
from api.errors import BadGatewayException, ConflictException
from api.openapi import BEARER
from api.services import provide
from api.tenants.schemas import (
    AddMemberRequest,
    CreateTenantRequest,
    MemberOut,
    TenantOut,
    UpdateTenantRequest,
)
from api.tenants.service import TenantService

Service = NamedDependency[TenantService]


class TenantController(Controller):
    path = "/tenant"
    tags = ["tenants"]
    security = BEARER
    dependencies = {**TENANT_FROM_PATH, "service": provide(lambda services: services.tenants)}

    @post(
        status_code=HTTP_201_CREATED,
        raises=[ConflictException, BadGatewayException],
        operation_id="createTenant",
    )
    async def create(
        self, data: JSONBody[CreateTenantRequest], principal: Caller, service: Service
    ) -> TenantOut:
        """Connect a store: the token is checked against it, then stored encrypted."""
        return await service.create(
            principal,
            name=data.name,
            shopify_domain=data.shopify_domain,
            shopify_token=data.shopify_token,
            webhook_secret=data.webhook_secret,
        )

    @get(operation_id="listTenants")
    async def list_tenants(self, principal: Caller, service: Service) -> list[TenantOut]:
        """The tenants the caller belongs to."""
        return await service.list(principal)

    @get("/{tenant_id:uuid}", opt=TENANT_IN_PATH, guards=[member], operation_id="getTenant")
    async def get_tenant(self, tenant: Tenant, service: Service) -> TenantOut:
        return await service.get(tenant)

    @patch(
        "/{tenant_id:uuid}",
        opt=TENANT_IN_PATH,
        guards=[owner],
        raises=[BadGatewayException],
        operation_id="updateTenant",
    )
    async def update(
        self, data: JSONBody[UpdateTenantRequest], tenant: Tenant, service: Service
    ) -> TenantOut:
        """Rename, rotate the access token (verified against the store) or webhook secret."""
        return await service.update(
            tenant,
            name=data.name,
            shopify_token=data.shopify_token,
            webhook_secret=data.webhook_secret,
        )

    @delete(
        "/{tenant_id:uuid}",
        opt=TENANT_IN_PATH,
        guards=[owner],
        status_code=HTTP_204_NO_CONTENT,
        raises=[ConflictException],
        operation_id="deleteTenant",
    )
    async def delete_tenant(self, tenant: Tenant, service: Service) -> None:
        """Disconnect the store: its raw data and mart rows are deleted."""
        await service.delete(tenant)

    @get(
        "/{tenant_id:uuid}/members", opt=TENANT_IN_PATH, guards=[owner], operation_id="listMembers"
    )
    async def list_members(self, tenant: Tenant, service: Service) -> list[MemberOut]:
        return await service.members(tenant)

    @post(
        "/{tenant_id:uuid}/members",
        opt=TENANT_IN_PATH,
        guards=[owner],
        status_code=HTTP_201_CREATED,
        raises=[ConflictException],
        operation_id="addMember",
    )
    async def add_member(
        self, data: JSONBody[AddMemberRequest], tenant: Tenant, service: Service
    ) -> MemberOut:
        """Give a registered user (by email) a role in the tenant."""
        return await service.add_member(tenant, email=data.email, role=data.role)

    @delete(
        "/{tenant_id:uuid}/members/{email:str}",
        opt=TENANT_IN_PATH,
        guards=[owner],
        status_code=HTTP_204_NO_CONTENT,
        raises=[ConflictException],
        operation_id="removeMember",
    )
    async def remove_member(self, tenant: Tenant, email: FromPath[str], service: Service) -> None:
        await service.remove_member(tenant, email=email)
