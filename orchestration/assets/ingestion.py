"""The Shopify dlt resources as assets, materialised by ingestion's own `run_sync`.

`@dlt_assets` gives the asset specs (one asset per dlt resource, with dlt's kinds and
the tenant partitions); the body does not call `DagsterDltResource.run`, which drops the
pipeline's state and loads everything in one `pipeline.run`. It calls `run_sync`, so a
Dagster sync takes the tenant's lock, records its `app.sync_runs` row (the queued API
request's row when the run carries one) and loads a long backfill in resumable windows,
exactly like `xeno sync` and the API.

A run syncs each tenant of its partitions (one, or a batch) in a small thread pool: a
sync mostly waits on the store and the database, and each tenant has its own pipeline
name, folder and lock. A tenant that fails is recorded on its partition (`sync_error`)
and the others carry on; the dbt step then builds the batch and fails the run naming
every tenant that failed (`failed_syncs`).
"""

import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

import dlt
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    DagsterEventType,
    Failure,
    MaterializeResult,
    MetadataValue,
)
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from core.settings import get_settings
from core.tenants import TenantNotFound
from ingestion.client import connect
from ingestion.pipeline import pipelines_dir
from ingestion.runs import RunConflict, SyncRun
from ingestion.source import SOURCE_NAME, shopify_source
from ingestion.sync import SyncBusy, SyncFailed, run_sync
from orchestration.jobs import SyncRequest
from orchestration.partitions import BACKFILL_POLICY, TENANTS, tenant_id
from orchestration.resources import Warehouse

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
                description=f"Raw Shopify {data.resource.name} of the tenant (dlt, merged "
                "on id, incremental on updated_at), with their nested tables.",
            )
        )


def _definition_source() -> dlt.sources.DltSource:
    """The source's shape for the asset specs; never run (each run builds its own)."""
    return shopify_source(connect("definitions.myshopify.com", "unused"), lookback_seconds=0)


def _definition_pipeline() -> dlt.Pipeline:
    """A pipeline naming the destination kind; each tenant's run uses its own pipeline."""
    return dlt.pipeline(
        pipeline_name="xeno_dagster_definitions",
        pipelines_dir=str(pipelines_dir(get_settings())),
        destination=dlt.destinations.postgres(),
        dataset_name="shopify",
    )


@dataclass(frozen=True)
class TenantSync:
    """One tenant's outcome in a run: its finished sync, and the error if it failed."""

    tenant: str
    run: SyncRun | None = None
    error: str | None = None
    # Whether waiting may heal it: another sync holds the tenant, the database was away.
    retryable: bool = False
    # Another sync of the tenant was running (it rebuilds the marts): skipped, not failed.
    busy: bool = False


def sync_tenant(tenant: str, request: SyncRequest) -> TenantSync:
    """`run_sync` of one tenant of the run, its failures sorted into retryable and final."""
    sync_id = uuid.UUID(request.sync_id) if request.sync_id else None
    try:
        run = run_sync(
            tenant_id(tenant),
            full_refresh=request.full_refresh,
            trigger=request.trigger,
            run_id=sync_id,
        )
    except SyncBusy as exc:
        return TenantSync(tenant, error=str(exc), retryable=True, busy=True)
    except (RunConflict, TenantNotFound) as exc:
        return TenantSync(tenant, error=str(exc))
    except SyncFailed as exc:
        # A requested sync's row is now `failed` and is what the retailer sees; a retry
        # would record a second run behind it, so only unrequested syncs retry.
        return TenantSync(tenant, exc.run, str(exc), retryable=sync_id is None)
    except Exception as exc:  # isolated: the batch's other tenants still sync and build
        return TenantSync(tenant, error=f"{type(exc).__name__}: {exc}", retryable=True)
    return TenantSync(tenant, run)


def sync_all(
    context: AssetExecutionContext, tenants: Sequence[str], request: SyncRequest
) -> list[TenantSync]:
    """Sync every tenant of the run, a few at once; log each outcome as it lands."""
    threads = min(get_settings().orchestration_sync_threads, len(tenants))
    outcomes = []
    with ThreadPoolExecutor(threads, thread_name_prefix="sync") as pool:
        futures = [pool.submit(sync_tenant, tenant, request) for tenant in tenants]
        for future in as_completed(futures):
            outcome = future.result()
            status = outcome.run.status if outcome.run else "not run"
            if outcome.error:
                context.log.error("sync of %s: %s: %s", outcome.tenant, status, outcome.error)
            else:
                context.log.info("sync of %s: %s", outcome.tenant, status)
            outcomes.append(outcome)
    return sorted(outcomes, key=lambda o: tenants.index(o.tenant))


def sync_metadata(outcome: TenantSync, table: str) -> dict[str, MetadataValue]:
    """Rows this sync loaded into `table` and its nested tables, and the sync's record."""
    run = outcome.run
    rows = run.rows_loaded if run else {}
    metadata = {
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
        context.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION
    ):
        event = entry.asset_materialization
        if event is not None and event.partition and SYNC_ERROR in event.metadata:
            failed[event.partition] = str(event.metadata[SYNC_ERROR].value)
    return failed


@dlt_assets(
    dlt_source=_definition_source(),
    dlt_pipeline=_definition_pipeline(),
    name="shopify_raw",
    partitions_def=TENANTS,
    backfill_policy=BACKFILL_POLICY,
    dagster_dlt_translator=ShopifyTranslator(),
    pool=WAREHOUSE_POOL,
)
def shopify_raw(
    context: AssetExecutionContext, warehouse: Warehouse
) -> Iterator[MaterializeResult]:
    """Sync the run's tenants (always whole stores: a sync is one unit).

    Only when no tenant synced does the step fail (retried if waiting may help: a single
    tenant whose lock is held waits for it); otherwise the batch goes on to the dbt step.
    """
    outcomes = sync_all(context, context.partition_keys, SyncRequest.from_tags(context.run.tags))
    if all(o.error for o in outcomes):
        errors = {o.tenant: o.error for o in outcomes}
        raise Failure(
            f"no tenant of the run synced: {errors}",
            metadata={"failed_tenants": MetadataValue.json(errors)},
            allow_retries=all(o.retryable for o in outcomes),
        )
    failed = {o.tenant: o.error for o in outcomes if o.error and not o.busy}
    schemas = {str(t.id): t.raw_schema for t in warehouse.tenants(context.partition_keys)}
    for key in sorted(context.selected_asset_keys):
        table = key.path[-1]
        for outcome in outcomes:
            metadata = sync_metadata(outcome, table)
            if outcome.tenant in schemas:
                name = f"{schemas[outcome.tenant]}.{table}"
                metadata["dagster/table_name"] = MetadataValue.text(name)
            context.add_asset_metadata(metadata, asset_key=key, partition_key=outcome.tenant)
        yield MaterializeResult(
            asset_key=key,
            metadata={
                "tenants": MetadataValue.int(len(outcomes)),
                "failed_tenants": MetadataValue.json(failed),
            },
        )
