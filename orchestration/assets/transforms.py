"""The dbt models as assets (`@dbt_assets`): one `dbt build` for all the run's tenants.

A run's partitions (one tenant, or a batch) are built by ONE dbt invocation with the
batch's vars (`runner.batch_vars`), through dagster-dbt's CLI resource so each model is
a materialisation and each data test an asset check; mart materialisations carry each
tenant's row count on its partition. When that build fails, `runner.build_tenants`
rebuilds the batch split, so the healthy tenants still get their marts and the failing
ones are named. A tenant whose build fails has its loaded sync closed as failed with the
error (the API shows a loaded sync as `transforming` until a build follows it).
"""

# No `from __future__ import annotations`: Dagster checks the `context` annotation at runtime.
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetSpec,
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

from core.tenants import Tenant
from dbt_project import runner
from orchestration.assets.ingestion import WAREHOUSE_POOL, failed_syncs
from orchestration.jobs import RETRY_POLICY, WEBHOOKS_KEY, SyncRequest
from orchestration.partitions import BACKFILL_POLICY, TENANTS
from orchestration.resources import DBT_PROJECT, Warehouse, ensure_manifest


class MartsTranslator(DagsterDbtTranslator):
    """dbt sources onto the dlt assets; models grouped by layer (staging, ..., marts).

    A raw table `orders__line_items` is a nested table of the dlt resource `orders`, so
    each source table maps to the asset of its root resource: `shopify/orders`. Models
    reading raw tables also depend on `shopify/webhooks`, which writes into them.
    """

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        reads_raw = any(
            upstream.startswith("source.") for upstream in _upstream(manifest, unique_id)
        )
        if unique_id.startswith("model.") and reads_raw:
            return spec.merge_attributes(deps=[WEBHOOKS_KEY])
        return spec

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            root = dbt_resource_props["name"].split("__")[0]
            return AssetKey([dbt_resource_props["source_name"], root])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else None


def _upstream(manifest: Mapping[str, Any], unique_id: str) -> list[str]:
    node = manifest.get("nodes", {}).get(unique_id, {})
    return list(node.get("depends_on", {}).get("nodes", []))


TRANSLATOR = MartsTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True, enable_duplicate_source_asset_keys=True
    )
)


def slice_rows(url: str, key: AssetKey, tenants: Sequence[str]) -> dict[str, int]:
    """Rows of each of `tenants` in a shared mart table (none for other models)."""
    schema, table = runner.dbt_env(url)["XENO_MARTS_SCHEMA"], key.path[-1]
    if key.path[0] != "marts" or table not in runner.MART_MODELS:
        return {}
    query = sql.SQL(
        "select tenant_id::text, count(*) from {}.{} where tenant_id = any(%s::uuid[]) "
        "group by tenant_id"
    ).format(sql.Identifier(schema), sql.Identifier(table))
    with psycopg.connect(url) as conn:
        counts = dict(conn.execute(query, (list(tenants),)).fetchall())
    return {tenant: int(counts.get(tenant, 0)) for tenant in tenants}


def with_slice_rows(context: AssetExecutionContext, event: Any, url: str) -> Any:
    """A mart model's Output, with each partition's `dagster/partition_row_count` added."""
    if not isinstance(event, Output):
        return event
    key = context.asset_key_for_output(event.output_name)
    for tenant, count in slice_rows(url, key, context.partition_keys).items():
        context.add_asset_metadata(
            {"dagster/partition_row_count": MetadataValue.int(count)},
            asset_key=key,
            partition_key=tenant,
        )
    return event


def rebuilt(
    keys: Iterable[AssetKey], tenants: Sequence[str], url: str
) -> Iterator[AssetMaterialization]:
    """The models a failed batch build skipped, materialised for each tenant the split
    rebuild (`runner.build_tenants`, outside dagster-dbt) did build."""
    for key in sorted(keys):
        counts = slice_rows(url, key, tenants)
        for tenant in tenants:
            metadata = {"built_by": MetadataValue.text("split rebuild after a failed batch")}
            if tenant in counts:
                metadata["dagster/partition_row_count"] = MetadataValue.int(counts[tenant])
            yield AssetMaterialization(asset_key=key, partition=tenant, metadata=metadata)


def fail_unbuilt_syncs(url: str, tenant_id: uuid.UUID, error: str) -> None:
    """Close the tenant's loaded syncs still waiting for a build as failed with `error`.

    The API shows a loaded sync as `transforming` until a mart build follows it; after a
    failed build none will, so the retailer sees the failure and its reason instead.
    """
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "update app.sync_runs r set status = 'failed', error = %s "
            "where r.tenant_id = %s and r.status = 'succeeded' and r.finished_at > coalesce("
            "(select b.built_at from app.mart_builds b where b.tenant_id = r.tenant_id), "
            "'-infinity')",
            (error, tenant_id),
        )


def failed_builds(batch: Sequence[Tenant], full_refresh: bool, url: str) -> dict[str, str]:
    """After a failed build of the batch: `runner.build_tenants` builds it again, split in
    halves down to single tenants while it fails (so a transient failure heals and the
    healthy tenants still build, and are recorded); the tenants that still fail, with
    dbt's failures."""
    results = runner.build_tenants(
        [(t.id, t.raw_schema) for t in batch], full_refresh=full_refresh, url=url
    )
    return {str(r.tenant_id): "; ".join(r.failures) for r in results if not r.success}


@dbt_assets(
    manifest=ensure_manifest(),
    project=DBT_PROJECT,
    name="marts",
    partitions_def=TENANTS,
    backfill_policy=BACKFILL_POLICY,
    dagster_dbt_translator=TRANSLATOR,
    # Unit tests check SQL logic, not a tenant's data: CI runs them once (as the runner).
    exclude="resource_type:unit_test",
    pool=WAREHOUSE_POOL,
)
def marts(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse
) -> Iterator[Any]:
    """`dbt build` of the run's tenants: their staging views and slices of the marts.

    The step fails after building, naming every tenant of the run whose sync or build
    failed; the others' marts are built and recorded.
    """
    batch = warehouse.tenants(context.partition_keys)
    if not batch:
        raise Failure("no tenant of this run exists any more", allow_retries=False)
    request = SyncRequest.from_tags(context.run.tags)
    url = warehouse.url()
    try:
        warehouse.prepare_dbt()
        vars_ = runner.batch_vars([(t.id, t.raw_schema) for t in batch], request.full_refresh)
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
            yield with_slice_rows(context, event, url)
        built = invocation.is_successful()
        failed = {} if built else failed_builds(batch, request.full_refresh, url)
    except Exception as exc:
        if context.retry_number >= RETRY_POLICY.max_retries:  # no attempt left
            for tenant in batch:
                fail_unbuilt_syncs(url, tenant.id, f"transform failed: {exc}")
        raise
    if built:  # the API's sync status and dashboard caches follow the recorded builds
        runner.record_builds(url, [t.id for t in batch])
    else:  # build_tenants recorded the tenants it built
        healthy = [str(t.id) for t in batch if str(t.id) not in failed]
        yield from rebuilt(context.selected_asset_keys - materialised, healthy, url)
    for tenant in batch:
        if str(tenant.id) in failed:
            fail_unbuilt_syncs(url, tenant.id, f"transform failed: {failed[str(tenant.id)]}")
    failed |= {t: f"sync: {e}" for t, e in failed_syncs(context).items() if t not in failed}
    if failed:
        # Failed models and tests also show on the events above (checks fail). They fail
        # the same way on every retry: no retries.
        raise Failure(
            f"{len(failed)} of {len(context.partition_keys)} tenant(s) failed: "
            + ", ".join(sorted(failed)),
            metadata={"failed_tenants": MetadataValue.json(failed)},
            allow_retries=False,
        )
