"""Dashboard and abandoned carts, read from the marts only (never raw data).

Every query names the tenant explicitly and runs in a transaction scoped to it, so
row-level security would hide other tenants' rows even if a filter were forgotten.
Per-day marts keep each figure a small indexed range scan whatever the tenant's size.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
import psycopg

from api.auth.principal import TenantScope
from api.db import Database
from api.insights.cache import DashboardCache, Key
from api.insights.schemas import (
    AbandonedCart,
    CartCustomer,
    CartData,
    Dashboard,
    DayFigures,
    ProductRevenue,
    TopCustomer,
)

log = logging.getLogger(__name__)

TOP_CUSTOMERS = 5
TOP_PRODUCTS = 10
CENT = Decimal("0.01")

_DAYS = """
select d::date, coalesce(r.order_count, 0), coalesce(r.total_revenue, 0),
       coalesce(r.new_customer_count, 0)
from generate_series(%(start)s::date, %(end)s::date, interval '1 day') as d
left join marts.agg_revenue_daily r on r.tenant_id = %(tenant)s and r.date = d::date
order by 1
"""
_TOP_CUSTOMERS = """
with spend as (
    select customer_id, sum(net_revenue) as spent, sum(order_count)::bigint as orders,
           count(*) over () as customers
    from marts.agg_customer_revenue_daily
    where tenant_id = %(tenant)s and order_date between %(start)s and %(end)s
    group by customer_id
    order by spent desc, customer_id
    limit %(limit)s
)
select c.first_name, c.last_name, c.email, s.spent, s.orders, s.customers
from spend s
left join marts.dim_customers c on c.tenant_id = %(tenant)s and c.customer_id = s.customer_id
order by s.spent desc, s.customer_id
"""
_TOP_PRODUCTS = """
with sold as (
    select product_key, sum(revenue) as revenue, sum(quantity) as quantity
    from marts.agg_product_revenue_daily
    where tenant_id = %(tenant)s and order_date between %(start)s and %(end)s
    group by product_key
    order by revenue desc, product_key
    limit %(limit)s
)
select coalesce(p.title, 'Unknown product'), s.revenue, s.quantity
from sold s
left join marts.dim_products p on p.tenant_id = %(tenant)s and p.product_key = s.product_key
order by s.revenue desc, s.product_key
"""
_SHOP = """
select currency, iana_timezone from marts.dim_shops where tenant_id = %(tenant)s
"""
_ABANDONED_COUNT = """
select count(*) from marts.fct_abandoned_checkouts
where tenant_id = %(tenant)s and is_abandoned and created_date between %(start)s and %(end)s
"""
_ABANDONED_LIST = """
select checkout_id, customer_id, customer_first_name, customer_last_name,
       coalesce(customer_email, email), cart, abandoned_at, created_at
from marts.fct_abandoned_checkouts
where tenant_id = %(tenant)s and is_abandoned and created_date between %(start)s and %(end)s
order by created_at desc, checkout_id desc
limit %(limit)s
"""


def money(amount: Decimal | int) -> float:
    """Round to the cent; as a float the value prints with exactly those digits."""
    return float(Decimal(amount).quantize(CENT))


async def _rows(conn: psycopg.AsyncConnection, query: str, params: dict[str, Any]) -> list[Any]:
    return await (await conn.execute(query, params)).fetchall()


class InsightsService:
    def __init__(self, db: Database, cache: DashboardCache) -> None:
        self.db = db
        self.cache = cache
        self._in_flight: dict[tuple[Any, ...], asyncio.Future[bytes]] = {}
        self._refreshing: set[asyncio.Task[bytes]] = set()

    async def dashboard_json(self, tenant: TenantScope, start: date, end: date) -> bytes:
        """The encoded dashboard: from the cache when the marts have not changed since the
        tenant's last build (read with the caller's membership, in the same round trip).

        An entry past its TTL (same build) is answered at once while one background
        task recomputes it: readers never queue behind a refresh.
        """
        key, built_at = (tenant.tenant_id, start, end), tenant.marts_built_at
        cached = self.cache.get(key, built_at)
        if cached is None:
            return await self._computed(tenant, key)
        body, fresh = cached
        if not fresh and (key, built_at) not in self._in_flight:
            refresh = asyncio.create_task(self._computed(tenant, key))
            self._refreshing.add(refresh)
            refresh.add_done_callback(self._refreshed)
        return body

    def _refreshed(self, task: asyncio.Task[bytes]) -> None:
        self._refreshing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("dashboard refresh failed: %s", task.exception())

    async def _computed(self, tenant: TenantScope, key: Key) -> bytes:
        """Compute one dashboard and cache it. Concurrent misses for the same tenant,
        range and build share one computation (a burst after a build must not run the
        same aggregation hundreds of times)."""
        built_at = tenant.marts_built_at
        flight = (key, built_at)
        if flight in self._in_flight:
            return await asyncio.shield(self._in_flight[flight])
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._in_flight[flight] = future
        tenant_id, start, end = key
        try:
            async with self.db.scoped(tenant) as conn:
                body = msgspec.json.encode(await self._dashboard(conn, tenant_id, start, end))
            self.cache.put(key, built_at, body)
            future.set_result(body)
            return body
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters (if any) get it re-raised
            raise
        finally:
            del self._in_flight[flight]

    async def _dashboard(
        self, conn: psycopg.AsyncConnection, tenant_id: uuid.UUID, start: date, end: date
    ) -> Dashboard:
        params = {"tenant": tenant_id, "start": start, "end": end}
        days = await _rows(conn, _DAYS, params)
        customers = await _rows(conn, _TOP_CUSTOMERS, {**params, "limit": TOP_CUSTOMERS})
        products = await _rows(conn, _TOP_PRODUCTS, {**params, "limit": TOP_PRODUCTS})
        abandoned = await _rows(conn, _ABANDONED_COUNT, params)
        shop = await _rows(conn, _SHOP, params)
        currency, time_zone = shop[0] if shop else (None, "UTC")
        return Dashboard(
            total_customers=customers[0][5] if customers else 0,
            total_orders=sum(d[1] for d in days),
            total_revenue=money(sum((d[2] for d in days), Decimal(0))),
            currency=currency,
            orders_by_date=[DayFigures(date=d[0], orders=d[1], revenue=money(d[2])) for d in days],
            top_customers=[
                TopCustomer(
                    first_name=c[0],
                    last_name=c[1],
                    email=c[2],
                    total_spent=money(c[3]),
                    orders_count=c[4],
                )
                for c in customers
            ],
            revenue_by_product=[
                ProductRevenue(product=p[0], name=p[0], revenue=money(p[1]), quantity=int(p[2]))
                for p in products
            ],
            abandoned_carts=abandoned[0][0],
            new_customers=sum(d[3] for d in days),
            start_date=start,
            end_date=end,
            time_zone=time_zone,
        )

    async def abandoned_carts(
        self, tenant: TenantScope, start: date, end: date, limit: int
    ) -> list[AbandonedCart]:
        params = {"tenant": tenant.tenant_id, "start": start, "end": end, "limit": limit}
        async with self.db.scoped(tenant) as conn:
            rows = await _rows(conn, _ABANDONED_LIST, params)
        return [
            AbandonedCart(
                id=checkout_id,
                type="cart_abandoned",
                customer=None
                if customer_id is None and email is None
                else CartCustomer(first_name=first, last_name=last, email=email),
                data=CartData(cart=cart, abandoned_at=abandoned_at),
                created_at=created_at,
            )
            for checkout_id, customer_id, first, last, email, cart, abandoned_at, created_at in rows
        ]
