"""Migration 0031: marts built under their old names carry on under the naming rule."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg

from core import migrate


def test_old_mart_names_are_renamed_keeping_rows_or_dropped(make_database, tmp_path: Path):
    url = make_database()
    before = tmp_path / "before"
    before.mkdir()
    for path in migrate.MIGRATIONS_DIR.glob("*.sql"):
        if path.name < "0031":
            shutil.copy(path, before)
    migrate.upgrade(url, before)
    with psycopg.connect(url) as conn:
        conn.execute("create schema if not exists marts")
        conn.execute("create table marts.revenue_daily (tenant_id uuid, net_revenue numeric)")
        conn.execute("insert into marts.revenue_daily values (gen_random_uuid(), 12.30)")
        # a build of the new code ran before the migration: its table wins
        conn.execute("create table marts.top_customers (tenant_id uuid)")
        conn.execute("create table marts.agg_top_customers (tenant_id uuid, rank bigint)")

    migrate.upgrade(url)

    with psycopg.connect(url) as conn:
        tables = {
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            )
        }
        renamed = conn.execute("select net_revenue from marts.agg_revenue_daily").fetchall()
        kept = conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'agg_top_customers'"
        ).fetchall()
    assert tables == {"agg_revenue_daily", "agg_top_customers"}
    assert [str(v) for (v,) in renamed] == ["12.30"]
    assert {c for (c,) in kept} == {"tenant_id", "rank"}
