"""The dbt models as assets (`@dbt_assets`), built per tenant partition; tests as checks.

One partition is one `dbt build` with the tenant's vars, exactly what `xeno transform
TENANT` runs, through dagster-dbt's CLI resource so each model is a materialisation and
each data test an asset check. Mart materialisations carry the tenant's row count.
"""

# No `from __future__ import annotations`: Dagster checks the `context` annotation at runtime.
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
from dagster import AssetExecutionContext, AssetKey, AssetSpec, Failure, MetadataValue, Output
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)
from psycopg import sql

from dbt_project import runner
from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.jobs import WEBHOOKS_KEY, SyncRequest
from orchestration.partitions import TENANTS, tenant_id
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


def slice_rows(url: str, schema: str, table: str, tenant: str) -> int:
    """Rows of one tenant in a shared mart table."""
    query = sql.SQL("select count(*) from {}.{} where tenant_id = %s").format(
        sql.Identifier(schema), sql.Identifier(table)
    )
    with psycopg.connect(url) as conn:
        row = conn.execute(query, (tenant,)).fetchone()
    return int(row[0]) if row else 0


def with_slice_rows(event: Any, url: str, tenant: str) -> Any:
    """A mart model's Output with the tenant's row count (`dagster/partition_row_count`)."""
    if not isinstance(event, Output):
        return event
    group, _, table = event.output_name.partition("__")  # asset key marts/<model>
    if group != "marts" or table not in runner.MART_MODELS:
        return event
    count = slice_rows(url, runner.dbt_env(url)["XENO_MARTS_SCHEMA"], table, tenant)
    return event.with_metadata(
        {**event.metadata, "dagster/partition_row_count": MetadataValue.int(count)}
    )


@dbt_assets(
    manifest=ensure_manifest(),
    project=DBT_PROJECT,
    name="marts",
    partitions_def=TENANTS,
    dagster_dbt_translator=TRANSLATOR,
    # Unit tests check SQL logic, not a tenant's data: CI runs them once (as the runner).
    exclude="resource_type:unit_test",
    pool=WAREHOUSE_POOL,
)
def marts(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse
) -> Iterator[Any]:
    """`dbt build` of the partition's tenant: its staging views and its slice of the marts."""
    tenant = warehouse.tenant(tenant_id(context.partition_key))
    warehouse.prepare_dbt()
    request = SyncRequest.from_tags(context.run.tags)
    args = [
        "build",
        "--vars",
        runner.tenant_vars(tenant.id, tenant.raw_schema, request.full_refresh),
    ]
    invocation = dbt.cli(
        args, context=context, target_path=warehouse.dbt_target(tenant.id), raise_on_error=False
    )
    url = warehouse.url()
    for event in invocation.stream():
        yield with_slice_rows(event, url, str(tenant.id))
    if not invocation.is_successful():
        # Failed models and tests are on the events above (checks fail); they fail the same
        # way on every retry: no retries.
        raise Failure(f"dbt build of tenant {tenant.id} failed", allow_retries=False)
    runner.record_build(url, tenant.id)  # the API's sync status and dashboard cache follow
