"""The code location loads, and its graph is the one the design describes."""

from __future__ import annotations

from dagster import AssetKey, BackfillPolicy, Backoff, Definitions

from core.settings import get_settings, load_settings
from orchestration.assets.ingestion import shopify_raw
from orchestration.assets.transforms import marts
from orchestration.definitions import defs
from orchestration.instance import instance_config
from orchestration.jobs import TENANT_SYNC_JOB, TENANT_WEBHOOKS_JOB
from orchestration.partitions import TENANTS


def test_definitions_load_and_validate():
    Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()
    assert repository.has_job(TENANT_SYNC_JOB.name)
    assert {s.name for s in repository.sensor_defs} == {
        "tenant_partitions",
        "api_sync_requests",
        "pending_webhooks",
        "due_deletions",
    }
    assert repository.has_job(TENANT_WEBHOOKS_JOB.name) and repository.has_job("tenant_purge")
    assert [s.cron_schedule for s in repository.schedule_defs] == ["0 2 * * *"]


def test_one_graph_partitioned_by_tenant_run_in_batches():
    assert shopify_raw.partitions_def == TENANTS and marts.partitions_def == TENANTS
    # a backfill over many tenants launches range runs of ORCHESTRATION_BATCH_SIZE
    size = get_settings().orchestration_batch_size
    assert shopify_raw.backfill_policy == BackfillPolicy.multi_run(size) == marts.backfill_policy
    raw = {key.to_user_string() for key in shopify_raw.keys}
    assert raw == {f"shopify/{r}" for r in ("shop", "customers", "products", "orders")} | {
        "shopify/abandoned_checkouts"
    }
    # dbt's sources (nested tables included) lead to the dlt assets of their resource.
    upstream = marts.dependency_keys - set(marts.keys)
    assert {AssetKey(["shopify", r]) for r in ("shop", "customers", "products", "orders")} <= (
        upstream
    )
    assert AssetKey(["marts", "revenue_daily"]) in marts.keys


def test_dbt_tests_are_asset_checks():
    checks = {c.asset_key.to_user_string() for c in marts.check_specs}
    assert "marts/fct_orders" in checks and "marts/revenue_daily" in checks


def test_steps_share_the_warehouse_pool_and_retry_with_backoff():
    assert {node.pool for node in (shopify_raw.op, marts.op)} == {"warehouse"}
    policy = TENANT_SYNC_JOB.op_retry_policy
    assert policy is not None and policy.backoff == Backoff.EXPONENTIAL and policy.max_retries


def test_instance_config_from_settings(tmp_path):
    settings = load_settings(
        {"MAX_RUNS_PER_STORE": "2", "MAX_WAREHOUSE_RUNS": "3", "DATA_DIR": str(tmp_path)},
        env_file=tmp_path / "none",
    )
    config = instance_config(settings)
    assert "storage" not in config  # development: SQLite files in DAGSTER_HOME
    assert config["concurrency"]["pools"]["default_limit"] == 3
    assert config["concurrency"]["runs"]["tag_concurrency_limits"][0]["limit"] == 2
    production = load_settings(
        {"DAGSTER_DATABASE_URL": "postgresql://d:p@db/dagster", "DATA_DIR": str(tmp_path)},
        env_file=tmp_path / "none",
    )
    assert instance_config(production)["storage"] == {
        "postgres": {"postgres_url": {"env": "XENO_DAGSTER_STORAGE_URL"}}
    }
