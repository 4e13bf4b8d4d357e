"""`/shopify/{products,customers,orders}`: the tenant's store data, paged."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.auth.context import Tenant, TenantHeaderController
from api.services import provide
from api.store_data.schemas import Customer, Order, Page, Product
from api.store_data.service import CUSTOMERS, ORDERS, PRODUCTS, StoreDataService

Service = NamedDependency[StoreDataService]

Limit = Annotated[int, QueryParameter(ge=1, le=250, description="page size (1-250)")]
Cursor = Annotated[
    str | None, QueryParameter(description="nextCursor of the previous page", max_length=512)
]


class StoreDataController(TenantHeaderController):
    path = "/shopify"
    tags = ["store data"]
    dependencies = {
        **TenantHeaderController.dependencies,
        "service": provide(lambda services: services.store_data),
    }

    @get("/products", operation_id="listProducts")
    async def products(
        self, tenant: Tenant, service: Service, limit: Limit = 50, cursor: Cursor = None
    ) -> Page[Product]:
        return await service.page(PRODUCTS, tenant, limit=limit, after=cursor)

    @get("/customers", operation_id="listCustomers")
    async def customers(
        self, tenant: Tenant, service: Service, limit: Limit = 50, cursor: Cursor = None
    ) -> Page[Customer]:
        return await service.page(CUSTOMERS, tenant, limit=limit, after=cursor)

    @get("/orders", operation_id="listOrders")
    async def orders(
        self, tenant: Tenant, service: Service, limit: Limit = 50, cursor: Cursor = None
    ) -> Page[Order]:
        """Newest first."""
        return await service.page(ORDERS, tenant, limit=limit, after=cursor)
