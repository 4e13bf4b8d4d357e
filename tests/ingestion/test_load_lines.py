"""Bulk lines loaded into PostgreSQL through dlt: a re-delivered record replaces all of its
child rows, the cursor commits with the load, a malformed file loads nothing, ids that are
no longer live are flagged, and raw schemas of another contract are refused."""

from __future__ import annotations

import copy
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from core.settings import get_settings
from ingestion.flatten import FlattenError
from ingestion.pipeline import (
    ContractMismatch,
    last_cursor,
    load_lines,
    mark_missing,
    needs_full_refresh,
    tenant_pipeline,
)
from tests.ingestion.test_flatten import LINE_2, ORDER, ORDER_LINES, write

CHILDREN = (
    "orders__line_items",
    "orders__line_items__discount_allocations",
    "orders__shipping_lines",
    "orders__discount_codes",
    "orders__refunds",
    "orders__refunds__transactions",
)


@pytest.fixture
def tenant(sim, make_tenant):
    return make_tenant(sim.shop(orders=1, rate_limit=False))


def select(conn: psycopg.Connection, schema: str, query: str, *params: object) -> list[tuple]:
    return conn.execute(sql.SQL(query).format(s=sql.Identifier(schema)), params).fetchall()


def children_of(conn: psycopg.Connection, schema: str, root: str) -> dict[str, list[str]]:
    found = {}
    for table in CHILDREN:
        rows = conn.execute(
            sql.SQL("select _dlt_id from {} where _dlt_root_id = %s order by _dlt_id").format(
                sql.Identifier(schema, table)
            ),
            (root,),
        ).fetchall()
        found[table] = [row[0] for row in rows]
    return found


def test_a_redelivered_order_replaces_all_of_its_child_rows(tenant, conn):
    pipeline = tenant_pipeline(tenant, get_settings())
    loaded = load_lines(pipeline, "orders", ORDER_LINES, cursor=None)
    assert loaded["orders"] == 2 and loaded["orders__line_items"] == 2
    before = children_of(conn, tenant.raw_schema, ORDER)
    assert all(before.values())  # every child table has rows of the order
    other = children_of(conn, tenant.raw_schema, "gid://shopify/Order/1002")
    (first_load,) = select(
        conn, tenant.raw_schema, "select _dlt_load_id from {s}.orders where id = 1001"
    )

    # edited down: one line left, no discounts, codes, shipping or refunds any more
    edited = copy.deepcopy(ORDER_LINES[0])
    edited.update(updatedAt="2024-03-05T00:00:00Z", discountCodes=[], refunds=[])
    line = copy.deepcopy(ORDER_LINES[2])
    load_lines(pipeline, "orders", [edited, line], cursor=None)

    after = children_of(conn, tenant.raw_schema, ORDER)
    assert after == {table: [] for table in CHILDREN} | {"orders__line_items": [LINE_2]}
    assert children_of(conn, tenant.raw_schema, "gid://shopify/Order/1002") == other
    rows = select(
        conn,
        tenant.raw_schema,
        "select id, total_line_items_price, _dlt_load_id from {s}.orders order by id",
    )
    assert [(r[0], r[1]) for r in rows] == [(1001, Decimal("2.07")), (1002, 0)]
    assert float(rows[0][2]) > float(first_load[0])  # the incremental marts see the change
    assert rows[1][2] == first_load[0]


def test_dlt_runs_without_telemetry_and_quietly(tmp_path):
    script = (
        "import logging, dlt\n"
        "import ingestion.pipeline\n"
        "from dlt.common.runtime import anon_tracker\n"
        f"dlt.pipeline(pipeline_name='quiet', pipelines_dir={str(tmp_path)!r})\n"
        "print(anon_tracker._ANON_TRACKER_ENDPOINT, logging.getLogger('dlt').level)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTIME__")}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.split() == ["None", str(logging.ERROR)]


def test_the_cursor_commits_with_its_load_and_a_broken_file_loads_nothing(tenant, conn, tmp_path):
    pipeline = tenant_pipeline(tenant, get_settings())
    cursor = datetime(2024, 3, 2, 10, tzinfo=UTC)
    load_lines(pipeline, "orders", [write(tmp_path, ORDER_LINES)], cursor=cursor)
    assert last_cursor(tenant_pipeline(tenant, get_settings()), "orders") == cursor

    broken = tmp_path / "broken.jsonl"
    good = write(tmp_path, [{**ORDER_LINES[4], "id": "gid://shopify/Order/1003"}], "good.jsonl")
    broken.write_text(good.read_text() + "{not json\n")
    with pytest.raises(FlattenError, match=r"broken\.jsonl, line 2"):
        load_lines(pipeline, "orders", [broken], cursor=datetime(2030, 1, 1, tzinfo=UTC))
    assert select(conn, tenant.raw_schema, "select count(*) from {s}.orders") == [(2,)]
    assert last_cursor(tenant_pipeline(tenant, get_settings()), "orders") == cursor
    assert not tenant_pipeline(tenant, get_settings()).has_pending_data


def customer(n: int, updated: str) -> dict:
    return {"id": f"gid://shopify/Customer/{n}", "updatedAt": updated, "firstName": f"C{n}"}


def test_records_missing_from_the_live_ids_are_flagged_deleted(tenant, conn, tmp_path):
    pipeline = tenant_pipeline(tenant, get_settings())
    old, new = "2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z"
    load_lines(pipeline, "customers", [customer(n, old) for n in (1, 2, 3)] + [customer(4, new)],
               cursor=None)  # fmt: skip
    ids = write(tmp_path, [{"id": "gid://shopify/Customer/1"}, {"id": "gid://shopify/Customer/3"}])
    (load_before,) = select(conn, tenant.raw_schema, "select max(_dlt_load_id) from {s}.customers")

    before = datetime(2024, 3, 1, tzinfo=UTC)  # customer 4 changed after the listing began
    assert mark_missing(conn, tenant, "customers", ids, before) == 1
    rows = select(
        conn,
        tenant.raw_schema,
        "select id, _xeno_deleted_at is not null, _dlt_load_id > %s from {s}.customers order by id",
        load_before[0],
    )
    assert rows == [(1, False, False), (2, True, True), (3, False, False), (4, False, False)]
    assert mark_missing(conn, tenant, "customers", ids, before) == 0  # flagged once
    assert mark_missing(conn, tenant, "products", ids, before) == 0  # no table yet


def test_a_raw_schema_of_another_contract_needs_a_full_refresh(tenant, conn, tmp_path):
    assert not needs_full_refresh(conn, tenant)  # nothing loaded yet
    pipeline = tenant_pipeline(tenant, get_settings())
    load_lines(pipeline, "customers", [customer(1, "2024-01-01T00:00:00Z")], cursor=None)
    assert not needs_full_refresh(conn, tenant)

    conn.execute(
        sql.SQL("drop table {}").format(sql.Identifier(tenant.raw_schema, "_xeno_contract"))
    )
    assert needs_full_refresh(conn, tenant)  # loaded, but by the REST-era loader
    with pytest.raises(ContractMismatch, match="full refresh"):
        load_lines(pipeline, "customers", [customer(2, "2024-01-01T00:00:00Z")], cursor=None)


def test_json_files_and_line_objects_load_alike(tenant, conn, tmp_path):
    pipeline = tenant_pipeline(tenant, get_settings())
    path: Path = write(tmp_path, [customer(1, "2024-01-01T00:00:00Z")])
    assert load_lines(pipeline, "customers", [path], cursor=None) == {"customers": 1}
    assert load_lines(
        pipeline, "customers", [customer(2, "2024-01-01T00:00:00Z")], cursor=None
    ) == {"customers": 1}
    assert load_lines(pipeline, "customers", [], cursor=None) == {}
    assert select(conn, tenant.raw_schema, "select count(*) from {s}.customers") == [(2,)]
