"""`/insights`: the dashboard and abandoned carts of the tenant in `x-tenant-id`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.auth.guards import member
from api.auth.principal import Principal
from api.insights.dates import date_range
from api.insights.schemas import AbandonedCart, Dashboard
from api.insights.service import InsightsService
from api.openapi import BEARER, TenantHeader

Service = NamedDependency[InsightsService]

StartDate = Annotated[
    str | None, QueryParameter(name="startDate", description="ISO date, inclusive")
]
EndDate = Annotated[str | None, QueryParameter(name="endDate", description="ISO date")]


class InsightsController(Controller):
    path = "/insights"
    tags = ["insights"]
    opt = {"tenant": "header"}
    guards = [member]
    security = BEARER

    @get("/dashboard", operation_id="getDashboard")
    async def dashboard(
        self,
        request: Request[Principal, object, State],
        x_tenant_id: TenantHeader,
        insights_service: Service,
        start_date: StartDate = None,
        end_date: EndDate = None,
    ) -> Response[Dashboard]:
        """Orders, revenue, customers, products and abandoned carts over the range
        (default: the last 30 days; at most 1,096 days)."""
        start, end = date_range(start_date, end_date)
        tenant = request.user.scope
        body = await insights_service.dashboard_json(
            request.user.user_id, tenant.tenant_id, start, end, tenant.marts_built_at
        )
        # the body is the Dashboard, encoded once for every reader of the cache
        return Response[Any](body, media_type=MediaType.JSON)

    @get("/abandoned-carts", operation_id="listAbandonedCarts")
    async def abandoned_carts(
        self,
        request: Request[Principal, object, State],
        x_tenant_id: TenantHeader,
        insights_service: Service,
        start_date: StartDate = None,
        end_date: EndDate = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[AbandonedCart]:
        """Checkouts created in the range and never completed, newest first."""
        start, end = date_range(start_date, end_date)
        return await insights_service.abandoned_carts(
            request.user.user_id, request.user.scope.tenant_id, start, end, limit
        )
