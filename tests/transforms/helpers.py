"""Helpers of the transforms tests: simulator stores loaded raw, built by dbt.

Raw data is loaded straight from the simulator's REST records through ingestion's own
line load (as webhooks are: `webhook_lines` -> `load_lines`), so these tests need no sync.
Builds are expensive (a few seconds per dbt invocation): stores are built once per package.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import dlt
import psycopg
from psycopg.rows import dict_row

from core.settings import get_settings
from dbt_project import runner
from ingestion.lines import webhook_lines
from ingestion.pipeline import load_lines
from ingestion.raw_contract import new_load_id
from simulator import truth
from simulator.shop import Shop, ShopSpec

ANCHOR = datetime(2024, 6, 1, tzinfo=UTC)
ROOT_RESOURCES = ("customers", "products", "orders", "checkouts")
# Raw table names where ingestion's differ from the simulator's resource names.
RAW_TABLE = {"checkouts": "abandoned_checkouts"}
# Mart columns saying which load and which build wrote a row, not what the row says.
BOOKKEEPING = {"_dlt_load_id", "_xeno_build_id"}
_names = itertools.count(1)


@contextmanager
def data_dir(path: Path) -> Iterator[Path]:
    """DATA_DIR (dbt target folders, dlt state, dev secrets) at `path` for the block."""
    previous = os.environ.get("DATA_DIR")
    os.environ["DATA_DIR"] = str(path)
    get_settings.cache_clear()
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop("DATA_DIR", None)
        else:
            os.environ["DATA_DIR"] = previous
        get_settings.cache_clear()


def next_name() -> int:
    """A number unique in this test session (tenant names)."""
    return next(_names)


# Several stores: different seeds, currencies (JPY has no minor unit) and time zones
# (Kolkata is UTC+05:30, Los Angeles has daylight saving).
STORES = {
    "usd": ShopSpec(name="tx-usd", seed=11, currency="USD", orders=400, days=120),
    "jpy": ShopSpec(name="tx-jpy", seed=22, currency="JPY", orders=250, days=90),
    "inr": ShopSpec(name="tx-inr", seed=33, currency="INR", orders=250, days=200),
    "eur": ShopSpec(
        name="tx-eur", seed=44, currency="EUR", timezone="America/Los_Angeles", orders=300
    ),
}


@dataclass
class Tenant:
    """A registered tenant, its simulated store, and where its raw data lives."""

    id: uuid.UUID
    raw_schema: str
    shop: Shop | None
    url: str

    def load(self, **records: list[dict]) -> None:
        """Merge REST records into the tenant's raw schema exactly as webhooks are."""
        load_raw(self.url, self.raw_schema, records)

    def load_store(self) -> None:
        assert self.shop is not None
        store = self.shop.store
        self.load(
            shop=[self.shop.shop_json()],
            **{name: list(store.tables[name].iter_live()) for name in ROOT_RESOURCES},
        )

    def build(self, *, full_refresh: bool = False) -> runner.BuildResult:
        result = runner.build_tenant(
            get_settings().on_database(self.url),
            self.id,
            self.raw_schema,
            full_refresh=full_refresh,
        )
        assert result.success, result.failures
        return result

    def truth(self) -> dict[str, Any]:
        assert self.shop is not None
        return truth.compute(self.shop.store)


def load_raw(url: str, schema: str, records: dict[str, list[dict]]) -> None:
    """One load per resource merging its REST records on `id`, as a webhook batch is."""
    pipeline = dlt.pipeline(
        pipeline_name=f"test_{schema}",
        destination=dlt.destinations.postgres(url),
        dataset_name=schema,
        pipelines_dir=str(get_settings().data_dir / "dlt"),
    )
    for name, rows in records.items():
        resource = RAW_TABLE.get(name, name)
        lines = [line for row in rows for line in webhook_lines(resource, row)]
        load_lines(pipeline, resource, lines, cursor=None)
        # `_xeno_deleted_at` on a record: flagged as a delete webhook flags it
        with psycopg.connect(url, autocommit=True) as conn:
            for row in rows:
                if row.get("_xeno_deleted_at"):
                    conn.execute(
                        f'update "{schema}"."{resource}" set _xeno_deleted_at = %s, '
                        "_dlt_load_id = %s where id = %s",
                        (row["_xeno_deleted_at"], new_load_id(), row["id"]),
                    )


def corrupt_money(url: str, schema: str) -> None:
    """Raw money that no longer casts: as a hand-edited or foreign raw schema could hold
    (ingestion itself refuses such values), so every build of the tenant fails on it."""
    with psycopg.connect(url, autocommit=True) as conn:
        for table, column in (("orders", "total_price"), ("orders__line_items", "price")):
            raw = f'"{schema}"."{table}"'
            conn.execute(f"alter table {raw} alter column {column} type text")
            conn.execute(f"update {raw} set {column} = 'not money'")


def query(url: str, sql: str, *params: Any, **named: Any) -> list[dict[str, Any]]:
    """Rows as dicts; positional `%s` or named `%(name)s` parameters."""
    with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, named or params)
        return cur.fetchall()


def mart_snapshot(url: str, tenant_id: uuid.UUID) -> dict[str, list[tuple]]:
    """Every mart row of one tenant, sorted, without the bookkeeping columns."""
    snapshot = {}
    for model in runner.MART_MODELS:
        rows = query(url, f"select * from marts.{model} where tenant_id = %s", tenant_id)
        snapshot[model] = sorted(
            tuple(sorted((k, str(v)) for k, v in r.items() if k not in BOOKKEEPING)) for r in rows
        )
    return snapshot


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def mart_figures(url: str, tenant_id: uuid.UUID) -> dict[str, Any]:
    """A tenant's headline figures from the marts, shaped like `truth_figures`."""
    days = query(
        url,
        "select date, order_count, gross_sales, discounts, refunds, total_revenue, net_revenue "
        "from marts.agg_revenue_daily where tenant_id = %s and order_count > 0",
        tenant_id,
    )
    products = query(
        url,
        "select product_id, product_title, quantity, revenue from marts.agg_product_revenue "
        "where tenant_id = %s",
        tenant_id,
    )
    customers = query(
        url,
        "select customer_id, orders_count, lifetime_spend from marts.dim_customers "
        "where tenant_id = %s and orders_count > 0",
        tenant_id,
    )
    return {
        "days": {
            r["date"].isoformat(): (r["order_count"], *(money(v) for v in list(r.values())[2:]))
            for r in days
        },
        "products": {
            r["product_id"]: (r["product_title"], r["quantity"], money(r["revenue"]))
            for r in products
        },
        "customers": {
            r["customer_id"]: (r["orders_count"], money(r["lifetime_spend"])) for r in customers
        },
    }


def truth_figures(expected: dict[str, Any]) -> dict[str, Any]:
    """The simulator's truth in the shape of `mart_figures`."""
    figures = ("gross_sales", "discounts", "refunds", "total_revenue", "net_revenue")
    return {
        "days": {
            d["date"]: (d["orders"], *(money(d[k]) for k in figures))
            for d in expected["revenue_by_day"]
        },
        "products": {
            p["product_id"]: (p["title"], p["quantity"], money(p["revenue"]))
            for p in expected["revenue_by_product"]
        },
        "customers": {
            c["customer_id"]: (c["orders"], money(c["spend"]))
            for c in expected["revenue_by_customer"]
        },
    }
