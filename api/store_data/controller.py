"""`/shopify/{products,customers,orders}`: the tenant's store data, paged."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.auth.guards import member
from api.auth.principal import Principal
from api.openapi import BEARER, TenantHeader
from api.store_data.schemas import Customer, Order, Page, Product
from api.store_data.service import CUSTOMERS, ORDERS, PRODUCTS, Listing, StoreDataService

Service = NamedDependency[StoreDataService]

Limit = Annotated[int, QueryParameter(ge=1, le=250, description="page size (1-250)")]
Cursor = Annotated[
    str | None, QueryParameter(description="nextCursor of the previous page", max_length=512)
]
AuthedRequest = Request[Principal, object, State]


async def _page(
    service: StoreDataService,
    listing: Listing,
    request: AuthedRequest,
    limit: int,
    cursor: str | None,
) -> Page[Any]:
    return await service.page(
        listing,
        user_id=request.user.user_id,
        tenant_id=request.user.scope.tenant_id,
        limit=limit,
        after=cursor,
    )


class StoreDataController(Controller):
    path = "/shopify"
    tags = ["store data"]
    opt = {"tenant": "header"}
    guards = [member]
    security = BEARER

    @get("/products", operation_id="listProducts")
    async def products(
        self,
        request: AuthedRequest,
        x_tenant_id: TenantHeader,
        store_data_service: Service,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[Product]:
        return await _page(store_data_service, PRODUCTS, request, limit, cursor)

    @get("/customers", operation_id="listCustomers")
    async def customers(
        self,
        request: AuthedRequest,
        x_tenant_id: TenantHeader,
        store_data_service: Service,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[Customer]:
        return await _page(store_data_service, CUSTOMERS, request, limit, cursor)

    @get("/orders", operation_id="listOrders")
    async def orders(
        self,
        request: AuthedRequest,
        x_tenant_id: TenantHeader,
        store_data_service: Service,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Page[Order]:
        """Newest first."""
        return await _page(store_data_service, ORDERS, request, limit, cursor)
