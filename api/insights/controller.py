"""`/insights`: the dashboard and abandoned carts of the tenant in `x-tenant-id`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import MediaType, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.auth.context import Tenant, TenantHeaderController
from api.insights.dates import date_range
from api.insights.schemas import AbandonedCart, Dashboard
from api.insights.service import InsightsService
from api.services import provide

Service = NamedDependency[InsightsService]

StartDate = Annotated[
    str | None, QueryParameter(name="startDate", description="ISO date, inclusive")
]
EndDate = Annotated[str | None, QueryParameter(name="endDate", description="ISO date")]


class InsightsController(TenantHeaderController):
    path = "/insights"
    tags = ["insights"]
    dependencies = {
        **TenantHeaderController.dependencies,
        "service": provide(lambda services: services.insights),
    }

    @get("/dashboard", operation_id="getDashboard")
    async def dashboard(
        self,
        tenant: Tenant,
        service: Service,
        start_date: StartDate = None,
        end_date: EndDate = None,
    ) -> Response[Dashboard]:
        """Orders, revenue, customers, products and abandoned carts over the range
        (default: the last 30 days; at most 1,096 days)."""
        start, end = date_range(start_date, end_date)
        body = await service.dashboard_json(tenant, start, end)
        # the body is the Dashboard, encoded once for every reader of the cache
        return Response[Any](body, media_type=MediaType.JSON)

    @get("/abandoned-carts", operation_id="listAbandonedCarts")
    async def abandoned_carts(
        self,
        tenant: Tenant,
        service: Service,
        start_date: StartDate = None,
        end_date: EndDate = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[AbandonedCart]:
        """Checkouts created in the range and never completed, newest first."""
        start, end = date_range(start_date, end_date)
        return await service.abandoned_carts(tenant, start, end, limit)
