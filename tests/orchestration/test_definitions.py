"""The code location loads lazily, and its graph is the one the design describes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime

from dagster import AssetKey, BackfillPolicy, Backoff, Definitions

from core.settings import get_settings, load_settings
from core.tenants import Tenant
from orchestration.assets.ingestion import shopify_raw_assets
from orchestration.assets.transforms import marts_assets
from orchestration.definitions import defs
from orchestration.instance import instance_config
from orchestration.jobs import TENANT_SYNC_JOB, SyncConfig, sync_run_config
from orchestration.partitions import TENANTS, partition_key, tenant_id


def test_importing_the_code_location_does_no_work():
    """A fresh interpreter imports orchestration.definitions: no settings read, no assets
    built (so no dbt parse, no Shopify client), no dbt process, no connection made."""
    script = textwrap.dedent(
        """
        import sys

        events = []
        sys.addaudithook(
            lambda event, args: events.append((event, repr(args)))
            if event in ("subprocess.Popen", "os.exec", "os.posix_spawn", "socket.connect")
            else None
        )
        import orchestration.definitions as location
        from core.settings import get_settings
        from orchestration.assets.ingestion import shopify_raw_assets
        from orchestration.assets.transforms import marts_assets
        from orchestration.resources import dbt_project, dbt_resource

        info = get_settings.cache_info()
        assert info.hits + info.misses == 0, f"get_settings called at import: {info}"
        for factory in (shopify_raw_assets, marts_assets, dbt_project, dbt_resource):
            assert factory.cache_info().currsize == 0, f"{factory.__name__} ran at import"
        # (croniter runs `file` on the interpreter at import: not ours, not dbt)
        assert not [e for e in events if "socket" in e[0] or "dbt" in e[1]], events
        assert callable(location.defs)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


def test_definitions_load_and_validate():
    loaded = defs()
    Definitions.validate_loadable(loaded)
    repository = loaded.get_repository_def()
    jobs = {job.name for job in repository.get_all_jobs() if not job.name.startswith("__")}
    assert jobs == {TENANT_SYNC_JOB.name}
    # the live loop (API syncs, first syncs, webhooks, erasure) is the worker's
    assert {s.name for s in repository.sensor_defs} == {"tenant_partitions"}
    assert [s.cron_schedule for s in repository.schedule_defs] == ["0 2 * * *"]
    assert AssetKey(["shopify", "webhooks"]) not in repository.asset_graph.get_all_asset_keys()


def test_one_graph_partitioned_by_tenant_run_in_batches():
    size = get_settings().orchestration.batch_size
    raw, marts = shopify_raw_assets(get_settings()), marts_assets(size)
    assert raw.partitions_def == TENANTS and marts.partitions_def == TENANTS
    # a backfill over many tenants launches range runs of ORCHESTRATION_BATCH_SIZE
    assert raw.backfill_policy == BackfillPolicy.multi_run(size) == marts.backfill_policy
    keys = {key.to_user_string() for key in raw.keys}
    assert keys == {f"shopify/{r}" for r in ("shop", "customers", "products", "orders")} | {
        "shopify/abandoned_checkouts"
    }
    # dbt's sources (nested tables included) lead to the dlt assets of their resource.
    upstream = marts.dependency_keys - set(marts.keys)
    assert {AssetKey(["shopify", r]) for r in ("shop", "customers", "products", "orders")} <= (
        upstream
    )
    assert AssetKey(["marts", "agg_revenue_daily"]) in marts.keys
    assert all(key.path[0] != "shopify" or key in raw.keys for key in upstream)


def test_dbt_tests_are_asset_checks():
    marts = marts_assets(get_settings().orchestration.batch_size)
    checks = {c.asset_key.to_user_string() for c in marts.check_specs}
    assert "marts/fct_orders" in checks and "marts/agg_revenue_daily" in checks


def test_steps_share_the_warehouse_pool_and_retry_with_backoff():
    size = get_settings().orchestration.batch_size
    assert {a.op.pool for a in (shopify_raw_assets(get_settings()), marts_assets(size))} == {
        "warehouse"
    }
    policy = TENANT_SYNC_JOB.op_retry_policy
    assert policy is not None and policy.backoff == Backoff.EXPONENTIAL and policy.max_retries


def test_run_config_is_typed_and_reaches_both_steps():
    config = sync_run_config(SyncConfig(trigger="schedule", full_refresh=True)).to_config_dict()
    expected = {"config": {"trigger": "schedule", "full_refresh": True}}
    assert config["ops"] == {"shopify_raw": expected, "marts": expected}
    # a run launched by hand needs no config: an operator's incremental sync
    assert SyncConfig().trigger == "operator" and not SyncConfig().full_refresh
    job = defs().resolve_job_def(TENANT_SYNC_JOB.name)
    fields = job.run_config_schema.config_type.fields["ops"].config_type.fields
    assert {"shopify_raw", "marts"} <= set(fields)
    assert not fields["marts"].is_required


def test_partition_keys_name_the_shop_and_round_trip():
    tenant_ids, now = [uuid.uuid4() for _ in range(3)], datetime.now(UTC)
    shops = ["acme-store", "a", "shop-2-go"]
    for tenant, shop in zip(tenant_ids, shops, strict=True):
        made = Tenant(
            id=tenant,
            name="Any name, even with spaces & commas",
            shop_domain=f"{shop}.myshopify.com",
            raw_schema=f"shopify_{tenant.hex}",
            created_by=None,
            created_at=now,
            updated_at=now,
        )
        key = partition_key(made)
        assert key == f"{shop}.{tenant}"
        assert tenant_id(key) == tenant
        # nothing Dagster refuses in a key or reads as a selection
        assert not {",", "[", "]", "|", " "} & set(key) and "..." not in key
    assert tenant_id(str(tenant_ids[0])) == tenant_ids[0]  # an earlier version's bare key


def test_instance_config_from_settings(tmp_path):
    settings = load_settings(
        {"MAX_RUNS_PER_STORE": "2", "MAX_WAREHOUSE_RUNS": "3", "DATA_DIR": str(tmp_path)},
        env_file=tmp_path / "none",
    )
    config = instance_config(settings)
    assert "storage" not in config  # development: SQLite files in DAGSTER_HOME
    assert config["concurrency"]["pools"]["default_limit"] == 3
    assert config["concurrency"]["runs"]["tag_concurrency_limits"][0]["limit"] == 2
    # runs a stop interrupted are failed (monitoring) and retried once (run retries)
    assert config["run_monitoring"]["enabled"] is True
    assert config["run_retries"] == {
        "enabled": True,
        "max_retries": 1,
        "retry_on_asset_or_op_failure": False,
    }
    production = load_settings(
        {"DAGSTER_DATABASE_URL": "postgresql://d:p@db/dagster", "DATA_DIR": str(tmp_path)},
        env_file=tmp_path / "none",
    )
    assert instance_config(production)["storage"] == {
        "postgres": {"postgres_url": {"env": "XENO_DAGSTER_STORAGE_URL"}}
    }
