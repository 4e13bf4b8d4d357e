"""Snapshots of one tenant's marts for notebooks and offline work: a DuckDB file, or a
folder of Parquet files.

Each mart is streamed from PostgreSQL with `COPY ... TO STDOUT (FORMAT csv)` — text, so
money never passes through a float — in chunks of rows written to a scratch file that
DuckDB's CSV reader loads with explicit types. Memory stays flat whatever the tenant's
size (one chunk on disk, DuckDB under a memory limit). DuckDB's `postgres` extension
cannot be installed offline, hence text in between.
All marts are read in one REPEATABLE READ transaction: a build running meanwhile never
leaves the snapshot half old, half new.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb
import psycopg
import yaml
from psycopg import sql

from dbt_project.layout import MART_MODELS, PROJECT_DIR, marts_schema

Format = Literal["duckdb", "parquet"]
BATCH_ROWS = 200_000
METRICS_DOC = PROJECT_DIR.parent / "docs" / "metrics.md"
# PostgreSQL type -> DuckDB type; `numeric` is sized from the data (see _decimal_types).
TYPES = {
    "uuid": "UUID",
    "text": "VARCHAR",
    "character varying": "VARCHAR",
    "boolean": "BOOLEAN",
    "smallint": "SMALLINT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "double precision": "DOUBLE",
    "date": "DATE",
    "timestamp with time zone": "TIMESTAMPTZ",
    "timestamp without time zone": "TIMESTAMP",
    "jsonb": "JSON",
    "json": "JSON",
}
README_COLUMNS = (
    "mart VARCHAR, grain VARCHAR, definition VARCHAR, description VARCHAR, row_count BIGINT, "
    "tenant_id UUID, shop_domain VARCHAR, built_at TIMESTAMPTZ, exported_at TIMESTAMPTZ"
)


class ExportError(RuntimeError):
    """The snapshot could not be written; the message says why."""


@dataclass
class ExportResult:
    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    bytes: int = 0


@dataclass(frozen=True)
class MartDoc:
    """What the README table says about a mart: its grain (the key its tests hold
    unique), the line of docs/metrics.md that places figures in it, its dbt description."""

    grain: str
    definition: str
    description: str
    columns: dict[str, str]


def mart_docs() -> dict[str, MartDoc]:
    """README material for every mart, from the model YAML and docs/metrics.md."""
    placed: dict[str, list[str]] = {}
    if METRICS_DOC.exists():
        for line in METRICS_DOC.read_text().splitlines():
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if len(cells) == 2 and "`" in cells[1]:
                for mart in re.findall(r"`([a-z_]+)`", cells[1]):
                    placed.setdefault(mart, []).append(cells[0])
    docs = {}
    for mart in MART_MODELS:
        spec = yaml.safe_load((PROJECT_DIR / "models" / "marts" / f"{mart}.yml").read_text())
        (model,) = [m for m in spec["models"] if m["name"] == mart]
        keys = [
            test["unique_combination"]["arguments"]["columns"]
            for test in model.get("data_tests", [])
            if isinstance(test, dict) and "unique_combination" in test
        ]
        grain = "one row per " + ", ".join(keys[0]) if keys else ""
        docs[mart] = MartDoc(
            grain=grain,
            definition="; ".join(placed.get(mart, [])),
            description=" ".join(str(model.get("description", "")).split()),
            columns={
                c["name"]: " ".join(str(c.get("description", "")).split())
                for c in model.get("columns", [])
            },
        )
    return docs


def _columns(conn: psycopg.Connection, schema: str, mart: str) -> list[tuple[str, str]]:
    """The mart's columns and PostgreSQL types, without bookkeeping (`_dlt_load_id`,
    `_xeno_build_id`, `_xeno_tombstone`: which load or build wrote a row, not what it says)."""
    rows = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = %s and table_name = %s and column_name not like '\\_%%' "
        "order by ordinal_position",
        (schema, mart),
    ).fetchall()
    return [(str(name), str(data_type)) for name, data_type in rows]


def _decimal_types(
    conn: psycopg.Connection, table: sql.Composable, names: list[str], tenant_id: uuid.UUID
) -> dict[str, str]:
    """DECIMAL(38, s) per unconstrained numeric column, s the largest scale its values need
    (exact); VARCHAR (still exact) if a value would not fit 38 digits."""
    if not names:
        return {}
    probes = sql.SQL(", ").join(
        sql.SQL("max(min_scale({c})), max(length(trunc(abs({c}))::text))").format(
            c=sql.Identifier(name)
        )
        for name in names
    )
    row = conn.execute(
        sql.SQL("select {} from {} where tenant_id = %s").format(probes, table), (tenant_id,)
    ).fetchone()
    assert row is not None
    types = {}
    for i, name in enumerate(names):
        scale, digits = row[2 * i] or 0, row[2 * i + 1] or 1
        types[name] = f"DECIMAL(38, {scale})" if scale + digits <= 38 else "VARCHAR"
    return types


def _load_chunk(duck: duckdb.DuckDBPyConnection, mart: str, chunk: Path, columns: str) -> None:
    duck.execute(
        f'insert into "{mart}" select * from read_csv(?, header = false, auto_detect = false, '
        f"delim = ',', quote = '\"', escape = '\"', nullstr = '', "
        f"allow_quoted_nulls = false, columns = {columns})",
        [str(chunk)],
    )


def _copy_mart(
    conn: psycopg.Connection,
    duck: duckdb.DuckDBPyConnection,
    mart: str,
    select: sql.Composable,
    columns: str,
    scratch: Path,
    batch_rows: int,
) -> int:
    """Stream one mart into its DuckDB table, `batch_rows` rows per chunk; rows copied."""
    chunk = scratch / f"{mart}.csv"
    rows = pending = 0
    out = chunk.open("wb")
    try:
        with conn.cursor().copy(sql.SQL("copy ({}) to stdout (format csv)").format(select)) as copy:
            for data in copy:  # one row per message in COPY OUT
                out.write(data)
                pending += 1
                if pending == batch_rows:
                    out.close()
                    _load_chunk(duck, mart, chunk, columns)
                    rows += pending
                    pending = 0
                    out = chunk.open("wb")
        out.close()
        if pending:
            _load_chunk(duck, mart, chunk, columns)
            rows += pending
    finally:
        out.close()
        chunk.unlink(missing_ok=True)
    return rows


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _export_mart(
    conn: psycopg.Connection,
    duck: duckdb.DuckDBPyConnection,
    schema: str,
    mart: str,
    tenant_id: uuid.UUID,
    doc: MartDoc,
    scratch: Path,
    batch_rows: int,
) -> int:
    """Create the mart's typed DuckDB table, with its comments, and fill it; rows copied."""
    found = _columns(conn, schema, mart)
    if not found:
        raise ExportError(f"mart {schema}.{mart} does not exist: run a build")
    table = sql.Identifier(schema, mart)
    numeric = [name for name, pg_type in found if pg_type == "numeric"]
    decimals = _decimal_types(conn, table, numeric, tenant_id)
    types = {name: decimals.get(name) or TYPES.get(pg_type, "VARCHAR") for name, pg_type in found}
    duck.execute(
        f'create table "{mart}" ('
        + ", ".join(f'"{name}" {kind}' for name, kind in types.items())
        + ")"
    )
    duck.execute(f'comment on table "{mart}" is {_quote(doc.description)}')
    for name in types:
        if doc.columns.get(name):
            duck.execute(f'comment on column "{mart}"."{name}" is {_quote(doc.columns[name])}')
    # COPY takes no bind parameters: the tenant id is a composed literal.
    select = sql.SQL("select {} from {} where tenant_id = {}").format(
        sql.SQL(", ").join(sql.Identifier(name) for name, _ in found),
        table,
        sql.Literal(str(tenant_id)),
    )
    spec = "{" + ", ".join(f"{_quote(n)}: {_quote(t)}" for n, t in types.items()) + "}"
    return _copy_mart(conn, duck, mart, select, spec, scratch, batch_rows)


def export_tenant(
    tenant_id: uuid.UUID,
    out: Path,
    *,
    url: str,
    fmt: Format = "duckdb",
    role: str | None = None,
    statement_timeout_ms: int = 0,
    batch_rows: int = BATCH_ROWS,
    progress: Callable[[str, int], None] | None = None,
) -> ExportResult:
    """Write every mart of one tenant to `out` (a .duckdb file, or a folder of Parquet
    files), one table per mart under its own name, plus a `README` table.

    `url`: the login to read as (the CLI's is the warehouse's, the API's its own);
    `role`: act as that role with the tenant selected (`app.tenant_id`), so row-level
    security, not this code, decides which rows leave (the API passes `xeno_api`).
    The file appears only when complete (written beside it, then renamed).
    """
    started = time.monotonic()
    schema = marts_schema()
    docs = mart_docs()
    out = Path(out)
    home = out.parent if fmt == "duckdb" else out
    home.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".xeno-export-", dir=home))
    building = scratch / "snapshot.duckdb"
    result = ExportResult(out)
    try:
        duck = duckdb.connect(str(building))
        try:
            # Bounded memory: DuckDB spills to its temp folder (beside the file) instead.
            duck.execute("set memory_limit = '256MB'")
            duck.execute("set threads = 2")
            duck.execute("set TimeZone = 'UTC'")
            with psycopg.connect(url) as conn:
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                conn.read_only = True
                conn.execute("set timezone = 'UTC'")
                conn.execute("set datestyle = 'ISO, YMD'")
                conn.execute(
                    sql.SQL("set statement_timeout = {}").format(sql.Literal(statement_timeout_ms))
                )
                if role is not None:
                    conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
                    conn.execute("select set_config('app.tenant_id', %s, true)", (str(tenant_id),))
                tenant = conn.execute(
                    "select t.shop_domain, b.built_at from app.tenants t "
                    "left join app.mart_builds b on b.tenant_id = t.id where t.id = %s",
                    (tenant_id,),
                ).fetchone()
                if tenant is None:
                    raise ExportError(f"no tenant has id {tenant_id}")
                shop_domain, built_at = tenant
                exported_at = datetime.now(UTC)
                for mart in MART_MODELS:
                    rows = _export_mart(
                        conn, duck, schema, mart, tenant_id, docs[mart], scratch, batch_rows
                    )
                    result.rows[mart] = rows
                    if progress:
                        progress(mart, rows)
            duck.execute(f"create table README ({README_COLUMNS})")
            duck.executemany(
                "insert into README values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        mart,
                        docs[mart].grain,
                        docs[mart].definition,
                        docs[mart].description,
                        rows,
                        str(tenant_id),
                        shop_domain,
                        built_at,
                        exported_at,
                    )
                    for mart, rows in result.rows.items()
                ],
            )
            if fmt == "parquet":
                for name in [*result.rows, "README"]:
                    path = out / f"{name}.parquet"
                    duck.execute(
                        f'copy "{name}" to {_quote(str(path))} (format parquet, compression zstd)'
                    )
                    result.bytes += path.stat().st_size
        finally:
            duck.close()
        if fmt == "duckdb":
            os.replace(building, out)
            result.bytes = out.stat().st_size
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result.seconds = time.monotonic() - started
    return result
