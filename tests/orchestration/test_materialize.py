"""Runs of `tenant_sync` in process against the simulator and the session database.

One tenant partition (an operator's run of one tenant): its marts equal the simulator's
truth and its `app.sync_runs` row records the run. A batch (a range of partitions, one
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
from core.settings import get_settings
from ingestion import runs
from ingestion.sync import run_sync
from orchestration.assets.ingestion import shopify_raw_assets
from orchestration.assets.transforms import marts_assets
from orchestration.definitions import defs
from orchestration.jobs import TENANT_SYNC_JOB, SyncConfig, sync_run_config
from orchestration.partitions import partition_key, range_tags
from tests.orchestration.conftest import add_partition, temp_instance
from tests.transforms.helpers import money, query

pytestmark = pytest.mark.slow


def assert_marts_equal_truth(url: str, tenant_id: uuid.UUID, truth: dict) -> None:
    (totals,) = query(
        url,
        "select sum(gross_sales) gross_sales, sum(discounts) discounts, sum(refunds) refunds, "
        "sum(total_revenue) total_revenue, sum(net_revenue) net_revenue "
        "from marts.agg_revenue_daily where tenant_id = %s",
        tenant_id,
    )
    assert {k: money(v) for k, v in totals.items()} == {
        k: money(v) for k, v in truth["totals"].items()
    }
    products = query(
        url,
        "select product_id, quantity, revenue from marts.agg_product_revenue where tenant_id = %s",
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
def synced(make_tenant, sim, tmp_path_factory):
    """A store synced and transformed through Dagster, as an operator's run of one
    partition (no run config: the defaults) runs it."""
    made = make_tenant(orders=300, seed=7)
    tenant = made["tenant"]
    size = get_settings().orchestration.batch_size
    with temp_instance(tmp_path_factory.mktemp("dagster")) as instance:
        key = add_partition(instance, tenant)
        result = materialize(
            [shopify_raw_assets(get_settings()), marts_assets(size)],
            partition_key=key,
            instance=instance,
            resources=defs().resources,
        )
    assert result.success
    return tenant, key, sim.truth(made["shop"]["domain"]), result


def test_marts_equal_truth(synced, database_url):
    tenant, _, truth, _ = synced
    assert_marts_equal_truth(database_url, tenant.id, truth)


def test_sync_row_records_the_operator_run(synced, conn):
    tenant, _, truth, _ = synced
    (run, *_) = runs.list_runs(conn, tenant.id)
    assert (run.status, run.trigger, run.full_refresh) == ("succeeded", "operator", False)
    assert run.rows_loaded["orders"] == truth["counts"]["orders_all"]


def test_assets_carry_row_counts_and_checks(synced, conn):
    tenant, key, truth, result = synced
    orders = partition_metadata(result, "shopify/orders", key)
    assert orders["rows_loaded"] == truth["counts"]["orders_all"]
    (run, *_) = runs.list_runs(conn, tenant.id)
    assert orders["sync_id"] == str(run.id) and orders["sync_trigger"] == "operator"
    assert orders["dagster/table_name"] == f"{tenant.raw_schema}.orders"
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
            settings=get_settings(),
        )
    broken = make_tenant(orders=60, seed=30)["tenant"]
    run_sync(broken.id, get_settings(), trigger="cli")
    break_raw_orders(database_url, broken)
    members = [
        healthy[0]["tenant"],
        unreachable,
        healthy[1]["tenant"],
        broken,
        healthy[2]["tenant"],
    ]
    with temp_instance(tmp_path_factory.mktemp("dagster")) as instance:
        result = run_batch(instance, members)
    truths = {h["tenant"]: sim.truth(h["shop"]["domain"]) for h in healthy}
    return result, truths, unreachable, broken


def run_batch(instance, members: list[tenants.Tenant]):
    """The job over a range of new partitions, as the daemon runs a daily batch's run."""
    keys = [add_partition(instance, t) for t in members]
    return (
        defs()
        .resolve_job_def(TENANT_SYNC_JOB.name)
        .execute_in_process(
            instance=instance,
            tags=range_tags(keys),
            run_config=sync_run_config(SyncConfig(trigger="schedule")),
            raise_on_error=False,
        )
    )


def test_batch_builds_every_healthy_tenant(batch, database_url):
    result, truths, _, _ = batch
    for tenant, truth in truths.items():
        assert_marts_equal_truth(database_url, tenant.id, truth)
        orders = partition_metadata(result, "shopify/orders", partition_key(tenant))
        assert orders["rows_loaded"] == truth["counts"]["orders_all"]
        assert orders["sync_trigger"] == "schedule"
        mart = partition_metadata(result, "marts/fct_orders", partition_key(tenant))
        assert mart["dagster/partition_row_count"] == truth["counts"]["orders_all"]


def test_batch_run_fails_naming_the_failed_tenants(batch):
    result, _, unreachable, broken = batch
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "marts"
    metadata = failure.step_failure_data.user_failure_data.metadata
    # named by their partitions: the shop beside the tenant id
    failed = {partition_key(unreachable), partition_key(broken)}
    assert set(metadata["failed_tenants"].value) == failed
    sync_error = partition_metadata(result, "shopify/orders", partition_key(unreachable))
    assert "sync_error" in sync_error


def test_sync_rows_tell_the_retailer(batch, conn, database_url):
    _, truths, unreachable, broken = batch
    for tenant in truths:
        (latest, *_) = runs.list_runs(conn, tenant.id)
        assert (latest.status, latest.trigger) == ("succeeded", "schedule")
        (built,) = query(
            database_url, "select built_at from app.mart_builds where tenant_id = %s", tenant.id
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
        result = run_batch(instance, list(truths))
    assert result.success
    for tenant, truth in truths.items():
        assert_marts_equal_truth(database_url, tenant.id, truth)
        mart = partition_metadata(result, "marts/fct_orders", partition_key(tenant))
        assert "built_by" not in mart  # built by the batch's one dbt invocation, no split
