"""Paged listings of the tenant's products, customers and orders from the warehouse.

Keyset pagination: each page continues strictly after the sort key of the previous
page's last row, so deep pages cost the same as the first and concurrent loads never
shift rows between pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import psycopg
from litestar.exceptions import ClientException

from api.auth.principal import TenantScope
from api.db import Database
from api.store_data import cursor
from api.store_data.schemas import Customer, Order, Page, Product


@dataclass(frozen=True)
class Listing:
    """One resource: its mart, the columns (aliased to the output struct), the sort key."""

    table: str
    columns: str
    key: tuple[str, ...]
    key_kinds: tuple[cursor.Kind, ...]
    descending: bool
    item: type[msgspec.Struct]
    where: str = "true"


def _money(column: str, alias: str) -> str:
    """Money rounded to the cent, as a JSON number (see docs/api.md)."""
    return f"round({column}, 2)::float8 as {alias}"


PRODUCTS = Listing(
    table="marts.dim_products",
    columns="product_id as id, title, handle, vendor, product_type, status, "
    f"coalesce(variant_count, 0) as variant_count, {_money('min_price', 'min_price')}, "
    f"{_money('max_price', 'max_price')}, created_at, updated_at",
    key=("product_key",),
    key_kinds=("int",),
    descending=False,
    item=Product,
    where="is_listed",
)
CUSTOMERS = Listing(
    table="marts.dim_customers",
    columns="customer_id as id, email, first_name, last_name, state, city, country, "
    f"orders_count, {_money('lifetime_spend', 'total_spent')}, first_order_date, "
    "last_order_date, created_at, updated_at",
    key=("customer_id",),
    key_kinds=("int",),
    descending=False,
    item=Customer,
)
ORDERS = Listing(
    table="marts.fct_orders",
    columns=", ".join(
        [
            "order_id as id, order_name as name, order_number, customer_id, email, created_at",
            "order_date, financial_status, fulfillment_status, currency",
            "is_cancelled as cancelled, is_test as test, line_count",
            "item_quantity::bigint as item_quantity",
            _money("subtotal_price", "subtotal_price"),
            _money("discounts", "total_discounts"),
            _money("tax", "total_tax"),
            _money("total_revenue", "total_price"),
            _money("refunds", "refunds"),
            _money("net_revenue", "net_revenue"),
        ]
    ),
    key=("created_at", "order_id"),
    key_kinds=("time", "int"),
    descending=True,
    item=Order,
)


def _cursor_value(value: Any) -> str | int:
    return value.isoformat() if isinstance(value, datetime) else value


class StoreDataService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def page(
        self,
        listing: Listing,
        tenant: TenantScope,
        *,
        limit: int,
        after: str | None,
    ) -> Page[Any]:
        key = ", ".join(listing.key)
        direction = "desc" if listing.descending else "asc"
        params: dict[str, Any] = {"tenant": tenant.tenant_id, "limit": limit + 1}
        after_clause = ""
        if after:
            values = cursor.decode(after, listing.key_kinds)
            params.update({f"k{i}": v for i, v in enumerate(values)})
            placeholders = ", ".join(f"%(k{i})s" for i in range(len(values)))
            after_clause = f"and ({key}) {'<' if listing.descending else '>'} ({placeholders})"
        order = ", ".join(f"{column} {direction}" for column in listing.key)
        query = (
            f"select {listing.columns}, {key} from {listing.table} "
            f"where tenant_id = %(tenant)s and {listing.where} {after_clause} "
            f"order by {order} limit %(limit)s"
        )
        count_query = (
            f"select count(*) from {listing.table} where tenant_id = %(tenant)s and {listing.where}"
        )
        try:
            async with self.db.scoped(tenant) as conn:
                cur = await conn.execute(query, params)
                names = [d.name for d in cur.description or ()]
                rows = await cur.fetchall()
                total = await (await conn.execute(count_query, params)).fetchone()
        except psycopg.errors.DataError:  # e.g. a timestamp out of PostgreSQL's range
            raise ClientException(cursor.INVALID) from None
        arity = len(listing.key)
        more = len(rows) > limit
        rows = rows[:limit]
        items = [
            listing.item(**dict(zip(names[:-arity], row[:-arity], strict=True))) for row in rows
        ]
        next_cursor = (
            cursor.encode([_cursor_value(v) for v in rows[-1][-arity:]]) if more and rows else None
        )
        return Page(data=items, count=total[0] if total else 0, next_cursor=next_cursor)
