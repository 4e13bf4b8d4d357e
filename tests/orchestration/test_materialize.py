"""One tenant partition materialised in process: its marts equal the simulator's truth,
and the sync's `app.sync_runs` row (an API request's own row) records the run."""

from __future__ import annotations

import psycopg
import pytest
from dagster import materialize

from ingestion import runs
from orchestration.assets.ingestion import shopify_raw
from orchestration.assets.transforms import marts
from orchestration.definitions import defs
from orchestration.jobs import SyncRequest
from tests.orchestration.conftest import add_partition, temp_instance
from tests.transforms.helpers import money, query

pytestmark = pytest.mark.slow


def run_partition(instance, tenant_id, request: SyncRequest):
    result = materialize(
        [shopify_raw, marts],
        partition_key=add_partition(instance, tenant_id),
        instance=instance,
        resources=defs.resources,
        tags=request.tags(),
    )
    assert result.success
    return result


@pytest.fixture(scope="module")
def synced(make_tenant, sim, database_url, tmp_path_factory):
    """A store synced and transformed through Dagster, as an API request would run it."""
    made = make_tenant(orders=300, seed=7)
    tenant = made["tenant"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        queued = runs.queue(conn, tenant.id, trigger="api")
    with temp_instance(tmp_path_factory.mktemp("dagster")) as instance:
        result = run_partition(instance, tenant.id, SyncRequest("api", str(queued.id)))
    return tenant, sim.truth(made["shop"]["domain"]), queued, result


def test_marts_equal_truth(synced, database_url):
    tenant, truth, _, _ = synced
    (totals,) = query(
        database_url,
        "select sum(gross_sales) gross_sales, sum(discounts) discounts, sum(refunds) refunds, "
        "sum(total_revenue) total_revenue, sum(net_revenue) net_revenue "
        "from marts.revenue_daily where tenant_id = %s",
        tenant.id,
    )
    assert {k: money(v) for k, v in totals.items()} == {
        k: money(v) for k, v in truth["totals"].items()
    }
    products = query(
        database_url,
        "select product_id, quantity, revenue from marts.product_revenue where tenant_id = %s",
        tenant.id,
    )
    assert {r["product_id"]: (r["quantity"], money(r["revenue"])) for r in products} == {
        p["product_id"]: (p["quantity"], money(p["revenue"])) for p in truth["revenue_by_product"]
    }
    (counts,) = query(
        database_url,
        "select count(*) orders_all, count(*) filter (where is_counted) orders_counted, "
        "count(*) filter (where is_cancelled) orders_cancelled, "
        "count(*) filter (where is_test) orders_test from marts.fct_orders where tenant_id = %s",
        tenant.id,
    )
    assert counts == {k: truth["counts"][k] for k in counts}


def test_api_request_row_follows_the_run(synced, conn):
    _, truth, queued, _ = synced
    run = runs.get_run(conn, queued.id)
    assert run is not None and run.status == "succeeded" and run.trigger == "api"
    assert run.rows_loaded["orders"] == truth["counts"]["orders_all"]


def test_assets_carry_row_counts_and_checks(synced):
    _, truth, queued, result = synced
    by_key = {m.asset_key.to_user_string(): m for m in result.get_asset_materialization_events()}
    orders = by_key["shopify/orders"].materialization.metadata
    assert orders["rows_loaded"].value == truth["counts"]["orders_all"]
    assert orders["sync_id"].value == str(queued.id)
    mart = by_key["marts/fct_orders"].materialization.metadata
    assert mart["dagster/partition_row_count"].value == truth["counts"]["orders_all"]
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
