"""The Shopify dlt resources as assets, materialised by ingestion's own `run_sync`.

`@dlt_assets` gives the asset specs (one asset per dlt resource, with dlt's kinds and
the tenant partitions); the body does not call `DagsterDltResource.run`, which drops the
pipeline's state and loads everything in one `pipeline.run`. It calls `run_sync`, so a
Dagster sync takes the tenant's lock, records its `app.sync_runs` row (the queued API
request's row when the run carries one) and loads a long backfill in resumable windows,
exactly like `xeno sync` and the API.
"""

import uuid
from collections.abc import Iterator

import dlt
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
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
from orchestration.partitions import TENANTS, tenant_id
from orchestration.resources import Warehouse

WAREHOUSE_POOL = "warehouse"


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


def sync_metadata(run: SyncRun, table: str) -> dict[str, MetadataValue]:
    """Rows this sync loaded into `table` and its nested tables, and the sync's record."""
    nested = {t: n for t, n in run.rows_loaded.items() if t.startswith(f"{table}__")}
    seconds = (
        (run.finished_at - run.started_at).total_seconds()
        if run.finished_at and run.started_at
        else 0.0
    )
    return {
        "rows_loaded": MetadataValue.int(run.rows_loaded.get(table, 0)),
        "nested_rows_loaded": MetadataValue.json(nested),
        "sync_id": MetadataValue.text(str(run.id)),
        "sync_trigger": MetadataValue.text(run.trigger),
        "full_refresh": MetadataValue.bool(run.full_refresh),
        "sync_seconds": MetadataValue.float(round(seconds, 3)),
    }


def sync_tenant(tenant: uuid.UUID, request: SyncRequest) -> SyncRun:
    """`run_sync` for a run, its failures sorted into retryable and final ones."""
    sync_id = uuid.UUID(request.sync_id) if request.sync_id else None
    try:
        return run_sync(
            tenant, full_refresh=request.full_refresh, trigger=request.trigger, run_id=sync_id
        )
    except SyncBusy:
        raise  # another sync holds the tenant: the retry policy waits and tries again
    except (RunConflict, TenantNotFound) as exc:
        raise Failure(str(exc), allow_retries=False) from exc
    except SyncFailed as exc:
        # A requested sync's row is now `failed` and is what the retailer sees; a retry
        # would record a second run behind it, so only unrequested syncs retry.
        raise Failure(
            str(exc),
            metadata={"sync_id": str(exc.run.id), "rows_loaded": exc.run.rows_loaded},
            allow_retries=sync_id is None,
        ) from exc


@dlt_assets(
    dlt_source=_definition_source(),
    dlt_pipeline=_definition_pipeline(),
    name="shopify_raw",
    partitions_def=TENANTS,
    dagster_dlt_translator=ShopifyTranslator(),
    pool=WAREHOUSE_POOL,
)
def shopify_raw(
    context: AssetExecutionContext, warehouse: Warehouse
) -> Iterator[MaterializeResult]:
    """Sync the partition's tenant (always the whole store: a sync is one unit)."""
    tenant = warehouse.tenant(tenant_id(context.partition_key))
    run = sync_tenant(tenant.id, SyncRequest.from_tags(context.run.tags))
    context.log.info("sync %s of %s: %s", run.id, tenant.shop_domain, run.status)
    for key in sorted(context.selected_asset_keys):
        yield MaterializeResult(
            asset_key=key,
            metadata={
                **sync_metadata(run, key.path[-1]),
                "dagster/table_name": MetadataValue.text(f"{tenant.raw_schema}.{key.path[-1]}"),
            },
        )
