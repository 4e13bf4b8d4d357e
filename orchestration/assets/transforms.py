"""The dbt models as assets (`@dbt_assets`): one `dbt build` for all the run's tenants.

A run's partitions (one tenant, or a batch) are built by ONE dbt invocation with the
batch's vars (`runner.batch_vars`), through dagster-dbt's CLI resource so each model is
a materialisation and each data test an asset check; mart materialisations carry each
tenant's row count on its partition. When that build fails, `runner.build_tenants`
rebuilds the batch split, so the healthy tenants still get their marts and the failing
ones are named. A tenant whose build fails has its loaded sync closed as failed with the
error (`work.close_failed_builds`: the API shows a loaded sync as `transforming` until a
build follows it).

`marts_assets()` builds the assets when the definitions load (it needs dbt's manifest,
parsed first in a fresh clone): never at import.
"""

# No `from __future__ import annotations`: Dagster reads the `context` and `config`
# annotations at runtime.
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetsDefinition,
    Failure,
    MetadataValue,
    Output,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)
from psycopg import sql

from dbt_project import layout, runner
from orchestration import work
from orchestration.assets.ingestion import WAREHOUSE_POOL, failed_syncs
from orchestration.jobs import BUILD_OP, RETRY_POLICY, SyncConfig
from orchestration.partitions import TENANTS, backfill_policy, tenant_id
from orchestration.resources import Warehouse, dbt_project, ensure_manifest


class MartsTranslator(DagsterDbtTranslator):
    """dbt sources onto the dlt assets; models grouped by layer (staging, ..., marts).

    A raw table `orders__line_items` is a nested table of the dlt resource `orders`, so
    each source table maps to the asset of its root resource: `shopify/orders`.
    """

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            root = dbt_resource_props["name"].split("__")[0]
            return AssetKey([dbt_resource_props["source_name"], root])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else None


TRANSLATOR = MartsTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True, enable_duplicate_source_asset_keys=True
    )
)


def slice_rows(
    warehouse: Warehouse, key: AssetKey, partition_keys: Sequence[str]
) -> dict[str, int]:
    """Rows of each tenant partition in a shared mart table (none for other models)."""
    schema, table = layout.marts_schema(), key.path[-1]
    if key.path[0] != "marts" or table not in runner.MART_MODELS:
        return {}
    query = sql.SQL(
        "select tenant_id, count(*) from {}.{} where tenant_id = any(%s) group by tenant_id"
    ).format(sql.Identifier(schema), sql.Identifier(table))
    ids = {key: tenant_id(key) for key in partition_keys}
    with warehouse.connect() as conn:
        counts = dict(conn.execute(query, (list(ids.values()),)).fetchall())
    return {key: int(counts.get(tenant, 0)) for key, tenant in ids.items()}


def with_slice_rows(context: AssetExecutionContext, event: Any, warehouse: Warehouse) -> Any:
    """A mart model's Output, with each partition's `dagster/partition_row_count` added."""
    if not isinstance(event, Output):
        return event
    key = context.asset_key_for_output(event.output_name)
    for partition, count in slice_rows(warehouse, key, context.partition_keys).items():
        context.add_asset_metadata(
            {"dagster/partition_row_count": MetadataValue.int(count)},
            asset_key=key,
            partition_key=partition,
        )
    return event


def rebuilt(
    keys: Iterable[AssetKey], partitions: Sequence[str], warehouse: Warehouse
) -> Iterator[AssetMaterialization]:
    """The models a failed batch build skipped, materialised for each tenant partition the
    split rebuild (`work.build`, outside dagster-dbt) did build."""
    for key in sorted(keys):
        counts = slice_rows(warehouse, key, partitions)
        for partition in partitions:
            metadata: dict[str, MetadataValue] = {
                "built_by": MetadataValue.text("split rebuild after a failed batch")
            }
            if partition in counts:
                metadata["dagster/partition_row_count"] = MetadataValue.int(counts[partition])
            yield AssetMaterialization(asset_key=key, partition=partition, metadata=metadata)


def build_step(
    context: AssetExecutionContext, config: SyncConfig, dbt: DbtCliResource, warehouse: Warehouse
) -> Iterator[Any]:
    """`dbt build` of the run's tenants: their staging views and slices of the marts.

    If the one invocation fails, `work.build` builds the batch again split in halves down
    to single tenants while it fails (so a transient failure heals, the healthy tenants
    still build and are recorded, and the failing ones' syncs are closed as failed).
    The step fails after building, naming every tenant of the run whose sync or build
    failed.
    """
    keys = {tenant_id(key): key for key in context.partition_keys}
    settings = warehouse.settings()
    batch = work.existing(settings, list(keys))
    if not batch:
        raise Failure("no tenant of this run exists any more", allow_retries=False)
    try:
        warehouse.prepare_dbt()
        vars_ = runner.batch_vars([(t.id, t.raw_schema) for t in batch], config.full_refresh)
        invocation = dbt.cli(
            # dbt's events reach Dagster on stdout; its debug file log (every statement of
            # every tenant of the batch) only cost build time.
            ["build", "--vars", vars_, "--log-level-file", "none"],
            context=context,
            target_path=warehouse.dbt_target(batch),
            raise_on_error=False,
        )
        materialised = set()
        for event in invocation.stream():
            if isinstance(event, Output):
                materialised.add(context.asset_key_for_output(event.output_name))
            yield with_slice_rows(context, event, warehouse)
        built = invocation.is_successful()
        if built:  # the API's sync status and dashboard caches follow the recorded builds
            runner.record_builds(settings, [t.id for t in batch])
            failed = {}
        else:  # work.build records the tenants it builds and closes the others' syncs
            failed = work.build(settings, batch, full_refresh=config.full_refresh)
    except Exception as exc:
        if context.retry_number >= RETRY_POLICY.max_retries:  # no attempt left
            work.close_failed_builds(
                settings, {t.id: f"{type(exc).__name__}: {exc}" for t in batch}
            )
        raise
    if not built:
        healthy = [keys[t.id] for t in batch if t.id not in failed]
        yield from rebuilt(context.selected_asset_keys - materialised, healthy, warehouse)
    failures = {keys[t]: reason for t, reason in failed.items()}
    failures |= {k: f"sync: {e}" for k, e in failed_syncs(context).items() if k not in failures}
    if failures:
        # Failed models and tests also show on the events above (checks fail). They fail
        # the same way on every retry: no retries.
        raise Failure(
            f"{len(failures)} of {len(context.partition_keys)} tenant(s) failed: "
            + ", ".join(sorted(failures)),
            metadata={"failed_tenants": MetadataValue.json(failures)},
            allow_retries=False,
        )


@cache
def marts_assets(batch_size: int) -> AssetsDefinition:
    """The dbt assets, partitioned by tenant, backfilled in batches of `batch_size`."""
    return dbt_assets(
        manifest=ensure_manifest(),
        project=dbt_project(),
        name=BUILD_OP,
        partitions_def=TENANTS,
        backfill_policy=backfill_policy(batch_size),
        dagster_dbt_translator=TRANSLATOR,
        # Unit tests check SQL logic, not a tenant's data: CI runs them once (as the runner).
        exclude="resource_type:unit_test",
        pool=WAREHOUSE_POOL,
    )(build_step)
