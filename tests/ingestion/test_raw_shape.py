"""The raw tables are a contract (`ingestion.raw_contract`): dbt staging, the webhook apply
and the privacy code read and write them by name. A fixed store must always load into
exactly these tables, columns, types, nullability and column order; a change to how
ingestion feeds dlt that alters any of it fails here. The store is read by bulk operations
over HTTP and loaded with `ingestion.pipeline.load_lines`, as a backfill loads it."""

from __future__ import annotations

from pathlib import Path

from core.settings import get_settings
from ingestion.pipeline import load_lines, tenant_pipeline
from tests.ingestion.conftest import shopify_settings
from tests.ingestion.test_lines import bulk_files

SNAPSHOT = Path(__file__).with_name("raw_shape.tsv")
# name, seed and anchor fix the generated data, so which fields are ever non-null too
STORE = {"name": "raw-shape", "orders": 300, "seed": 42, "anchor": "2026-01-01T00:00:00Z"}


def raw_shape(conn, schema: str) -> list[str]:
    rows = conn.execute(
        "select table_name, column_name, data_type, is_nullable from information_schema.columns "
        "where table_schema = %s and table_name not like '\\_dlt%%' "
        "order by table_name, ordinal_position",
        (schema,),
    ).fetchall()
    return ["\t".join(row) for row in rows]


def test_a_fixed_store_loads_into_the_same_raw_tables(sim, make_tenant, conn, tmp_path):
    shop = sim.shop(**STORE, rate_limit=False)
    tenant = make_tenant(shop)
    settings = shopify_settings(get_settings(), bulk_poll_seconds=0.05)
    pipeline = tenant_pipeline(tenant, settings)
    for resource, path in bulk_files(shop, settings, tmp_path).items():
        assert load_lines(pipeline, resource, [path], cursor=None)[resource] > 0

    assert raw_shape(conn, tenant.raw_schema) == SNAPSHOT.read_text().splitlines()
