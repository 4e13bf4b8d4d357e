"""The Shopify dlt resources as assets, materialised by Xeno's own sync.

`@dlt_assets` gives the asset specs (one asset per dlt resource, with dlt's kinds and
the tenant partitions); the body does not call `DagsterDltResource.run`, which drops the
pipeline's state and loads everything in one `pipeline.run`. It calls
`orchestration.work.sync_tenant` — the worker's call too — so a Dagster sync takes the
tenant's lock, records its `app.sync_runs` row and loads a long backfill in resumable
windows, exactly like `xeno sync` and the worker.

A run syncs each tenant of its partitions (one, or a batch) in a small thread pool: a
sync mostly waits on the store and the database, and each tenant has its own pipeline
name, folder and lock. A tenant that fails is recorded on its partition (`sync_error`)
and the others carry on; the dbt step then builds the batch and fails the run naming
every tenant that failed.

`shopify_raw_assets()` builds the assets when the definitions load (it makes the dlt
source and a pipeline for the specs): never at import.
"""

# No `from __future__ import annotations`: Dagster reads the `context` and `config`
# annotations at runtime.
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from functools import cache

import dlt
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    DagsterEventType,
    Failure,
    MaterializeResult,
    MetadataValue,
)
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from core.settings import Settings
from ingestion.pipeline import pipelines_dir
from ingestion.source import SOURCE_NAME, shopify_source
from orchestration import work
from orchestration.jobs import SYNC_OP, SyncConfig
from orchestration.partitions import TENANTS, backfill_policy, tenant_id
from orchestration.resources import Warehouse
from orchestration.work import TenantSync

WAREHOUSE_POOL = "warehouse"
# Partition metadata naming why a tenant of the run has no fresh sync.
SYNC_ERROR = "sync_error"


class ShopifyTranslator(DagsterDltTranslator):
    """Asset key `shopify/<resource>`: what dbt's `shopify` source tables map to."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(
                key=AssetKey([SOURCE_NAME, data.resource.name]),
                deps=[],
                group_name="ingestion",
                description=f"Raw Shopify {data.resource.name} of the tenant (flattened from "
                "GraphQL bulk lines, merged on id), with their nested tables.",
            )
        )


def _definition_source() -> dlt.sources.DltSource:
    """The source's shape for the asset specs; never run (each sync builds its own)."""
    return shopify_source()


def _definition_pipeline(settings: Settings) -> dlt.Pipeline:
    """A pipeline naming the destination kind; each tenant's sync uses its own pipeline."""
    return dlt.pipeline(
        pipeline_name="xeno_dagster_definitions",
        pipelines_dir=str(pipelines_dir(settings)),
        destination=dlt.destinations.postgres(),
        dataset_name="shopify",
    )


def sync_all(
    context: AssetExecutionContext, keys: Sequence[str], config: SyncConfig, settings: Settings
) -> dict[str, TenantSync]:
    """Sync every tenant of the run, a few at once; log each outcome as it lands.
    The outcomes by partition key, in the run's order."""
    threads = min(settings.orchestration.sync_threads, len(keys))
    outcomes: dict[str, TenantSync] = {}
    with ThreadPoolExecutor(threads, thread_name_prefix="sync") as pool:
        futures = {
            pool.submit(
                work.sync_tenant,
                tenant_id(key),
                settings,
                trigger=config.trigger,
                full_refresh=config.full_refresh,
            ): key
            for key in keys
        }
        for future in as_completed(futures):
            key, outcome = futures[future], future.result()
            status = outcome.run.status if outcome.run else "not run"
            if outcome.error:
                context.log.error("sync of %s: %s: %s", key, status, outcome.error)
            else:
                context.log.info("sync of %s: %s", key, status)
            outcomes[key] = outcome
    return {key: outcomes[key] for key in keys}


def sync_metadata(outcome: TenantSync, table: str) -> dict[str, MetadataValue]:
    """Rows this sync loaded into `table` and its nested tables, and the sync's record."""
    run = outcome.run
    rows = run.rows_loaded if run else {}
    metadata: dict[str, MetadataValue] = {
        "rows_loaded": MetadataValue.int(rows.get(table, 0)),
        "nested_rows_loaded": MetadataValue.json(
            {t: n for t, n in rows.items() if t.startswith(f"{table}__")}
        ),
    }
    if run is not None:
        seconds = (
            (run.finished_at - run.started_at).total_seconds()
            if run.finished_at and run.started_at
            else 0.0
        )
        metadata |= {
            "sync_id": MetadataValue.text(str(run.id)),
            "sync_trigger": MetadataValue.text(run.trigger),
            "full_refresh": MetadataValue.bool(run.full_refresh),
            "sync_seconds": MetadataValue.float(round(seconds, 3)),
        }
    if outcome.error:
        metadata["sync_skipped" if outcome.busy else SYNC_ERROR] = MetadataValue.text(outcome.error)
    return metadata


def failed_syncs(context: AssetExecutionContext) -> dict[str, str]:
    """Tenants whose sync failed earlier in this run, and why (their partition metadata)."""
    failed = {}
    for entry in context.instance.all_logs(
        context.run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION
    ):
        event = entry.asset_materialization
        if event is not None and event.partition and SYNC_ERROR in event.metadata:
            failed[event.partition] = str(event.metadata[SYNC_ERROR].value)
    return failed


def sync_step(
    context: AssetExecutionContext, config: SyncConfig, warehouse: Warehouse
) -> Iterator[MaterializeResult]:
    """Sync the run's tenants (always whole stores: a sync is one unit).

    Only when no tenant synced does the step fail (retried if waiting may help: a single
    tenant whose lock is held waits for it); otherwise the batch goes on to the dbt step.
    """
    settings = warehouse.settings()
    outcomes = sync_all(context, context.partition_keys, config, settings)
    if all(o.error for o in outcomes.values()):
        errors = {key: o.error for key, o in outcomes.items()}
        raise Failure(
            f"no tenant of the run synced: {errors}",
            metadata={"failed_tenants": MetadataValue.json(errors)},
            allow_retries=all(o.retryable for o in outcomes.values()),
        )
    failed = {key: o.error for key, o in outcomes.items() if o.error and not o.busy}
    existing = work.existing(settings, [o.tenant_id for o in outcomes.values()])
    schemas = {t.id: t.raw_schema for t in existing}
    for asset_key in sorted(context.selected_asset_keys):
        table = asset_key.path[-1]
        for key, outcome in outcomes.items():
            metadata = sync_metadata(outcome, table)
            if outcome.tenant_id in schemas:
                name = f"{schemas[outcome.tenant_id]}.{table}"
                metadata["dagster/table_name"] = MetadataValue.text(name)
            context.add_asset_metadata(metadata, asset_key=asset_key, partition_key=key)
        yield MaterializeResult(
            asset_key=asset_key,
            metadata={
                "tenants": MetadataValue.int(len(outcomes)),
                "failed_tenants": MetadataValue.json(failed),
            },
        )


@cache
def shopify_raw_assets(settings: Settings) -> AssetsDefinition:
    """The raw assets, partitioned by tenant, backfilled in batches of
    ORCHESTRATION_BATCH_SIZE."""
    return dlt_assets(
        dlt_source=_definition_source(),
        dlt_pipeline=_definition_pipeline(settings),
        name=SYNC_OP,
        partitions_def=TENANTS,
        backfill_policy=backfill_policy(settings.orchestration.batch_size),
        dagster_dlt_translator=ShopifyTranslator(),
        pool=WAREHOUSE_POOL,
    )(sync_step)
