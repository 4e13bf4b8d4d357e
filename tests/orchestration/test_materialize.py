"""Runs of `tenant_sync` in process against the simulator and the session database.

One tenant partition (an API request): its marts equal the simulator's truth and the
request's own `app.sync_runs` row records the run. A batch (a range of partitions, one
dbt build): every healthy tenant's marts equal its truth, while a tenant whose store is
unreachable and a tenant whose build fails are named by the failed run and never stop
the others; the failed build closes that tenant's sync as failed (not `transforming`).
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from dagster import materialize
from psycopg import sql

from core import tenants
from ingestion import runs
from ingestion.sync import run_sync
from orchestration.assets.ingestion import shopify_raw
from orchestration.assets.transforms import marts
from orchestration.definitions import defs
from orchestration.jobs import TENANT_SYNC_JOB, SyncRequest
from orchestration.partitions import range_tags
from tests.orchestration.conftest import add_partition, temp_instance
from tests.transforms.helpers import money, query

pytestmark = pytest.mark.slow


def assert_marts_equal_truth(url: str, tenant_id: uuid.UUID, truth: dict) -> None:
    (totals,) = query(
        url,
        "select sum(gross_sales) gross_sales, sum(discounts) discounts, sum(refunds) refunds, "
        "sum(total_revenue) total_revenue, sum(net_revenue) net_revenue "
        "from marts.revenue_daily where tenant_id = %s",
        tenant_id,
    )
    assert {k: money(v) for k, v in totals.items()} == {
        k: money(v) for k, v in truth["totals"].items()
    }
    products = query(
        url,
        "select product_id, quantity, revenue from marts.product_revenue where tenant_id = %s",
        tenant_id,
    )
    assert {r["product_id"]: (r["quantity"], money(r["revenue"])) for r in products} == {
        p["product_id"]: (p["quantity"], money(p["revenue"])) for p in truth["revenue_by_product"]
    }
    (counts,) = query(
        url,
        "select count(*) orders_all, count(*) filter (where is_counted) orders_counted, "
        "count(*) filter (where is_cancelled) orders_cancelled, "
        "count(*) filter (where is_test) orders_test from marts.fct_orders where tenant_id = %s",
        tenant_id,
    )
    assert counts == {k: truth["counts"][k] for k in counts}


def partition_metadata(result, key: str, partition: str) -> dict:
    (event,) = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == key and e.partition == partition
    ]
    return {name: value.value for name, value in event.metadata.items()}


@pytest.fixture(scope="module")
def synced(make_tenant, sim, database_url, tmp_path_factory):
    """A store synced and transformed through Dagster, as an API request would run it."""
    made = make_tenant(orders=300, seed=7)
    tenant = made["tenant"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        queued = runs.queue(conn, tenant.id, trigger="api")
    with temp_instance(tmp_path_factory.mktemp("dagster")) as instance:
        result = materialize(
            [shopify_raw, marts],
            partition_key=add_partition(instance, tenant.id),
            instance=instance,
            resources=defs.resources,
            tags=SyncRequest("api", str(queued.id)).tags(),
        )
    assert result.success
    return tenant, sim.truth(made["shop"]["domain"]), queued, result


def test_marts_equal_truth(synced, database_url):
    tenant, truth, _, _ = synced
    assert_marts_equal_truth(database_url, tenant.id, truth)


def test_api_request_row_follows_the_run(synced, conn):
    _, truth, queued, _ = synced
    run = runs.get_run(conn, queued.id)
    assert run is not None and run.status == "succeeded" and run.trigger == "api"
    assert run.rows_loaded["orders"] == truth["counts"]["orders_all"]


def test_assets_carry_row_counts_and_checks(synced):
    tenant, truth, queued, result = synced
    key = str(tenant.id)
    orders = partition_metadata(result, "shopify/orders", key)
    assert orders["rows_loaded"] == truth["counts"]["orders_all"]
    assert orders["sync_id"] == str(queued.id)
    mart = partition_metadata(result, "marts/fct_orders", key)
    assert mart["dagster/partition_row_count"] == truth["counts"]["orders_all"]
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)


def break_raw_orders(url: str, tenant: tenants.Tenant) -> None:
    """Make one raw order unreadable for dbt (a timestamp that is not one): the tenant's
    builds fail, while its syncs still load (the column takes dlt's values as text)."""
    orders = sql.Identifier(tenant.raw_schema, "orders")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("alter table {} alter column created_at type text").format(orders))
        conn.execute(
            sql.SQL(
                "update {0} set created_at = 'not a time' "
                "where id = (select id from {0} order by updated_at limit 1)"
            ).format(orders)
        )


@pytest.fixture(scope="module")
def batch(make_tenant, sim, database_url, tmp_path_factory):
    """One scheduled run over five tenant partitions: three healthy stores, one store the
    simulator does not serve (its sync fails) and one whose raw data breaks dbt."""
    healthy = [make_tenant(orders=120, seed=20 + i) for i in range(3)]
    with psycopg.connect(database_url, autocommit=True) as conn:
        unreachable = tenants.create(
            conn,
            name="gone",
            shop_domain=f"gone-{uuid.uuid4().hex[:8]}.myshopify.com",
            access_token="unused",
        )
    broken = make_tenant(orders=60, seed=30)["tenant"]
    run_sync(broken.id, trigger="cli")
    break_raw_orders(database_url, broken)
    members = [
        healthy[0]["tenant"],
        unreachable,
        healthy[1]["tenant"],
        broken,
        healthy[2]["tenant"],
    ]
    with temp_instance(tmp_path_factory.mktemp("dagster")) as instance:
        result = run_batch(instance, [t.id for t in members], SyncRequest("schedule"))
    truths = {h["tenant"].id: sim.truth(h["shop"]["domain"]) for h in healthy}
    return result, truths, unreachable, broken


def run_batch(instance, tenant_ids, request: SyncRequest):
    """The job over a range of new partitions, as the daemon runs a batch's run."""
    keys = [add_partition(instance, t) for t in tenant_ids]
    return defs.resolve_job_def(TENANT_SYNC_JOB.name).execute_in_process(
        instance=instance, tags={**request.tags(), **range_tags(keys)}, raise_on_error=False
    )


def test_batch_builds_every_healthy_tenant(batch, database_url):
    result, truths, _, _ = batch
    for tenant_id, truth in truths.items():
        assert_marts_equal_truth(database_url, tenant_id, truth)
        orders = partition_metadata(result, "shopify/orders", str(tenant_id))
        assert orders["rows_loaded"] == truth["counts"]["orders_all"]
        mart = partition_metadata(result, "marts/fct_orders", str(tenant_id))
        assert mart["dagster/partition_row_count"] == truth["counts"]["orders_all"]


def test_batch_run_fails_naming_the_failed_tenants(batch):
    result, _, unreachable, broken = batch
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "marts"
    metadata = failure.step_failure_data.user_failure_data.metadata
    assert set(metadata["failed_tenants"].value) == {str(unreachable.id), str(broken.id)}
    sync_error = partition_metadata(result, "shopify/orders", str(unreachable.id))
    assert "sync_error" in sync_error


def test_sync_rows_tell_the_retailer(batch, conn, database_url):
    _, truths, unreachable, broken = batch
    for tenant_id in truths:
        (latest, *_) = runs.list_runs(conn, tenant_id)
        assert (latest.status, latest.trigger) == ("succeeded", "schedule")
        (built,) = query(
            database_url, "select built_at from app.mart_builds where tenant_id = %s", tenant_id
        )
        assert built["built_at"] > latest.finished_at  # not `transforming` for the API
    (gone, *_) = runs.list_runs(conn, unreachable.id)
    assert gone.status == "failed" and gone.error
    # the sync loaded, the build failed: failed with dbt's reason, never stuck transforming
    (latest, *_) = runs.list_runs(conn, broken.id)
    assert latest.status == "failed" and latest.error.startswith("transform failed")


def test_next_daily_batch_of_healthy_tenants_succeeds(batch, database_url, tmp_path_factory):
    """Steady state: the same stores again, one batch, one successful dbt build."""
    _, truths, _, _ = batch
    with temp_instance(tmp_path_factory.mktemp("dagster")) as instance:
        result = run_batch(instance, list(truths), SyncRequest("schedule"))
    assert result.success
    for tenant_id, truth in truths.items():
        assert_marts_equal_truth(database_url, tenant_id, truth)
        mart = partition_metadata(result, "marts/fct_orders", str(tenant_id))
        assert "built_by" not in mart  # built by the batch's one dbt invocation, no split
