"""Per-tenant slices: incremental builds, deletions, full refresh, isolation, bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest
from psycopg import sql

from core.settings import get_settings
from dbt_project import runner
from simulator.shop import ShopSpec
from tests.transforms.helpers import STORES, mart_snapshot, query

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def changed(make_tenant, stores):
    """A store built, then changed (refunds, cancels, new orders, a deletion, a recovered
    checkout, a renamed customer), reloaded and built incrementally."""
    tenant = make_tenant(ShopSpec(name="tx-changes", seed=5, currency="GBP", orders=300))
    tenant.load_store()
    tenant.build()
    neighbours = {key: mart_snapshot(t.url, t.id) for key, t in stores.items()}

    store = tenant.shop.store
    orders = [o for o in store.orders.iter_live() if not o["test"] and not o["cancelled_at"]]
    touched = {orders[0]["id"], orders[1]["id"], orders[2]["id"]}
    store.update("orders", orders[0]["id"], {"refund": "1.00"})
    store.update("orders", orders[1]["id"], {"cancel": True})
    customer = next(iter(store.customers.iter_live()))
    store.update("customers", customer["id"], {"first_name": "Renamed"})
    for _ in range(3):
        rec, _events = store.create("orders", {"customer_id": customer["id"]})
        touched.add(rec["id"])
    deleted = dict(store.orders.get(store.orders.index_of(orders[2]["id"])))
    store.delete("orders", deleted["id"])
    checkout = next(c for c in store.checkouts.iter_live() if not c["completed_at"])
    store.update("checkouts", checkout["id"], {"completed": True})

    by_id = {o["id"]: o for o in store.orders.iter_live()}
    tenant.load(
        orders=[by_id[i] for i in sorted(touched - {deleted["id"]})]
        + [{**deleted, "_xeno_deleted_at": datetime.now(UTC).isoformat()}],
        customers=[store.customers.get(store.customers.index_of(customer["id"]))],
        checkouts=[store.checkouts.get(store.checkouts.index_of(checkout["id"]))],
    )
    tenant.build()
    return tenant, neighbours, deleted["id"]


def test_incremental_build_matches_truth(changed):
    tenant, _, deleted_id = changed
    expected = tenant.truth()
    (row,) = query(
        tenant.url,
        "select count(*) filter (where is_counted) counted, count(*) all_orders, "
        "sum(total_revenue) filter (where is_counted) revenue, "
        "sum(refunds) filter (where is_counted) refunds, "
        "count(*) filter (where order_id = %s) deleted "
        "from marts.fct_orders where tenant_id = %s",
        deleted_id,
        tenant.id,
    )
    assert row["counted"] == expected["counts"]["orders_counted"]
    assert row["all_orders"] == expected["counts"]["orders_all"]
    assert row["revenue"] == Decimal(expected["totals"]["total_revenue"])
    assert row["refunds"] == Decimal(expected["totals"]["refunds"])
    assert row["deleted"] == 0
    daily = query(
        tenant.url,
        "select date, order_count, net_revenue from marts.agg_revenue_daily "
        "where tenant_id = %s and order_count > 0 order by date",
        tenant.id,
    )
    assert [(r["date"].isoformat(), r["order_count"], r["net_revenue"]) for r in daily] == [
        (d["date"], d["orders"], Decimal(d["net_revenue"])) for d in expected["revenue_by_day"]
    ]
    spend = query(
        tenant.url,
        "select customer_id, first_name, orders_count, lifetime_spend from marts.dim_customers "
        "where tenant_id = %s and orders_count > 0",
        tenant.id,
    )
    assert {
        r["customer_id"]: (r["first_name"], r["orders_count"], r["lifetime_spend"]) for r in spend
    } == {
        c["customer_id"]: (c["first_name"], c["orders"], Decimal(c["spend"]))
        for c in expected["revenue_by_customer"]
    }
    products = query(
        tenant.url,
        "select product_id, quantity, revenue from marts.agg_product_revenue where tenant_id = %s",
        tenant.id,
    )
    assert {r["product_id"]: (r["quantity"], r["revenue"]) for r in products} == {
        p["product_id"]: (p["quantity"], Decimal(p["revenue"]))
        for p in expected["revenue_by_product"]
    }
    (checkouts,) = query(
        tenant.url,
        "select count(*) filter (where is_recovered) recovered, "
        "count(*) filter (where not is_recovered) abandoned "
        "from marts.fct_abandoned_checkouts where tenant_id = %s",
        tenant.id,
    )
    assert checkouts["recovered"] == expected["counts"]["checkouts_recovered"]
    assert checkouts["abandoned"] == expected["counts"]["checkouts_abandoned"]


def test_full_refresh_gives_identical_marts(changed):
    tenant, _, _ = changed
    incremental = mart_snapshot(tenant.url, tenant.id)
    tenant.build(full_refresh=True)
    assert mart_snapshot(tenant.url, tenant.id) == incremental


def test_other_tenants_slices_are_untouched(changed, stores):
    _, neighbours, _ = changed
    assert {key: mart_snapshot(t.url, t.id) for key, t in stores.items()} == neighbours


def test_rebuild_without_new_data_changes_nothing(stores):
    tenant = stores[sorted(STORES)[0]]
    before = mart_snapshot(tenant.url, tenant.id)
    tenant.build()
    assert mart_snapshot(tenant.url, tenant.id) == before


def test_tenant_without_data_builds_empty_marts(make_tenant):
    tenant = make_tenant()  # no raw schema at all
    tenant.build()
    for model in runner.MART_MODELS:
        rows = query(tenant.url, f"select 1 from marts.{model} where tenant_id = %s", tenant.id)
        # the tenant's own row (time zone UTC until a shop record arrives), nothing else
        assert len(rows) == (1 if model == "dim_shops" else 0), model


def test_sparse_raw_schema_with_unexpected_columns_builds(make_tenant):
    """No shop, products, customers or checkouts tables; columns missing and extra."""
    tenant = make_tenant()
    order = {
        "id": 1,
        "name": "#1001",
        "created_at": "2024-03-01T23:30:00-05:00",
        "updated_at": "2024-03-01T23:30:00-05:00",
        "test": False,
        "total_price": "30.00",
        "total_discounts": "0.00",
        "surprise_column": "anything",
        "line_items": [
            {"id": 11, "title": "Mystery", "price": "10.00", "quantity": 3, "nested": {"x": 1}}
        ],
    }
    tenant.load(orders=[order])
    tenant.build()
    (row,) = query(
        tenant.url,
        "select order_count, total_revenue, gross_sales from marts.agg_revenue_daily "
        "where tenant_id = %s and order_count > 0",
        tenant.id,
    )
    assert (row["order_count"], row["total_revenue"], row["gross_sales"]) == (
        1,
        Decimal("30.00"),
        Decimal("30.00"),
    )
    (product,) = query(
        tenant.url,
        "select product_key, product_title, revenue from marts.agg_product_revenue "
        "where tenant_id = %s",
        tenant.id,
    )
    assert (product["product_key"], product["product_title"], product["revenue"]) == (
        0,
        "Custom items",
        Decimal("30.00"),
    )


def test_rebuild_checks_new_raw_rows_at_the_marts(make_tenant):
    """Staging's raw-contract tests read a tenant's raw data only while it is built whole;
    an order loaded later without a creation time still fails the build, at the mart's
    not-null test."""
    tenant = make_tenant()
    batch = [(tenant.id, tenant.raw_schema)]
    order = {
        "id": 1,
        "name": "#1001",
        "created_at": "2024-03-01T10:00:00Z",
        "updated_at": "2024-03-01T10:00:00Z",
        "total_price": "10.00",
        "line_items": [{"id": 11, "title": "Thing", "price": "10.00", "quantity": 1}],
    }
    tenant.load(orders=[order])
    assert runner.tenants_without_marts(get_settings().on_database(tenant.url), batch) == [
        tenant.id
    ]
    tenant.build()
    assert runner.tenants_without_marts(get_settings().on_database(tenant.url), batch) == []

    tenant.load(orders=[{**order, "id": 2, "name": "#1002", "created_at": None}])
    result = runner.build_tenant(
        get_settings().on_database(tenant.url), tenant.id, tenant.raw_schema
    )
    assert not result.success
    (failure,) = [f for f in result.failures if "not_null_columns_fct_orders" in f]
    assert "1 result" in failure
    (row,) = query(
        tenant.url,
        "select count(*) as nulls from marts.fct_orders "
        "where tenant_id = %s and order_date is null",
        tenant.id,
    )
    assert row["nulls"] == 1


def test_build_restores_a_declared_index_the_mart_lacks(make_tenant):
    """Indexes declared after a mart was created (or dropped by hand) come back with the
    next build, built once."""
    tenant = make_tenant()
    definition = "CREATE INDEX % ON marts.dim_customers USING btree (tenant_id, _dlt_load_id)"

    def indexes() -> list[str]:
        rows = query(
            tenant.url,
            "select indexname from pg_indexes where schemaname = 'marts' "
            "and tablename = 'dim_customers' and indexdef like %s",
            definition,
        )
        return [row["indexname"] for row in rows]

    tenant.build()
    (name,) = indexes()
    with psycopg.connect(tenant.url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop index marts.{}").format(sql.Identifier(name)))
    assert indexes() == []
    tenant.build()
    assert len(indexes()) == 1
    tenant.build()
    assert len(indexes()) == 1
