"""Snapshots: every mart of one tenant, typed and exact, equal to the marts."""

from __future__ import annotations

import duckdb
import psycopg
import pytest
from click.testing import CliRunner

from core.cli import cli
from dbt_project.export import export_tenant
from dbt_project.runner import MART_MODELS

pytestmark = pytest.mark.slow

TOTALS = {
    "agg_revenue_daily": "count(*), sum(order_count), sum(gross_sales), sum(discounts), "
    "sum(refunds), sum(total_revenue), sum(net_revenue), sum(average_order_value)",
    "fct_orders": "count(*), sum(total_revenue), sum(net_revenue), "
    "min(created_at), max(created_at)",
    "fct_order_lines": "count(*), sum(net_amount), sum(quantity)",
    "agg_product_revenue": "count(*), sum(revenue), sum(quantity)",
    "dim_customers": "count(*), sum(lifetime_spend), min(first_order_date)",
    "fct_abandoned_checkouts": "count(*), sum(total_price), count(*) filter (where is_abandoned)",
}


def test_snapshot_totals_equal_the_marts(database_url, shops, tmp_path):
    a = shops["a"]
    chunks = tmp_path / "a.duckdb"
    result = export_tenant(a.id, chunks, url=database_url, batch_rows=50)  # many chunks
    with psycopg.connect(database_url) as conn, duckdb.connect(str(chunks)) as duck:
        for mart, figures in TOTALS.items():
            expected = conn.execute(
                f"select {figures} from marts.{mart} where tenant_id = %s", (a.id,)
            ).fetchone()
            assert duck.execute(f"select {figures} from {mart}").fetchone() == expected, mart
        for mart in MART_MODELS:
            (count,) = conn.execute(
                f"select count(*) from marts.{mart} where tenant_id = %s", (a.id,)
            ).fetchone()
            assert result.rows[mart] == count
        types = dict(
            duck.execute(
                "select column_name, data_type from duckdb_columns() "
                "where table_name = 'fct_orders'"
            ).fetchall()
        )
        assert types["total_revenue"].startswith("DECIMAL(38,")
        assert types["created_at"] == "TIMESTAMP WITH TIME ZONE"
        assert types["order_date"] == "DATE"
        assert "_dlt_load_id" not in types
        assert duck.execute("select distinct tenant_id from fct_order_lines").fetchall() == [
            (a.id,)
        ]
        readme = duck.execute("select mart, grain, definition, row_count from README").fetchall()
    assert {r[0] for r in readme} == set(MART_MODELS)
    assert ("agg_revenue_daily", "one row per tenant_id, date") in {(r[0], r[1]) for r in readme}
    assert all(r[2] for r in readme)  # every mart has its docs/metrics.md line


def test_cli_export_parquet(database_url, shops, tmp_path):
    a = shops["a"]
    out = tmp_path / "parquet"
    result = CliRunner().invoke(
        cli, ["export", str(a.id), "--out", str(out), "--format", "parquet"]
    )
    assert result.exit_code == 0, result.output
    assert f"exported {len(MART_MODELS)} marts" in result.output.splitlines()[-1]
    figures = TOTALS["agg_revenue_daily"]
    with psycopg.connect(database_url) as conn:
        expected = conn.execute(
            f"select {figures} from marts.agg_revenue_daily where tenant_id = %s", (a.id,)
        ).fetchone()
    parquet = str(out / "agg_revenue_daily.parquet")
    with duckdb.connect() as duck:
        actual = duck.execute(f"select {figures} from read_parquet(?)", [parquet]).fetchall()
    assert actual == [expected]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{m}.parquet" for m in MART_MODELS] + ["README.parquet"]
    )
