"""One dlt pipeline per tenant: its own name, working folder and raw schema.

Separate pipeline names keep tenants' incremental state, load packages and schemas apart
(and let syncs of different tenants run at once); the dataset is the tenant's reserved
`raw_schema`. The working folder lives in DATA_DIR/dlt; the state that matters (cursors)
is also committed to the warehouse with every load, so a lost folder is restored from it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dlt
import psycopg
from dlt.common.destination import TLoaderFileFormat
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from core.db import resolve_database_url
from core.settings import Settings
from core.tenants import Tenant
from ingestion.flatten import flatten, live_ids
from ingestion.lines import write_lines
from ingestion.raw_contract import BY_NAME, CONTRACT_VERSION, DELETED_AT, new_load_id
from ingestion.source import CURSOR, SOURCE_NAME, shopify_source

# Intermediate files are written, read once and deleted on the same disk: gzip only costs
# CPU (measured: a third of normalize time). See docs/ingestion.md.
dlt.config["data_writer.disable_compression"] = True
# dlt buffers this many rows per table before writing them out (Arrow batches from the
# flattener): peak memory follows it, not the store's size.
dlt.config["data_writer.buffer_max_items"] = 10_000
# Root rows carry the load id (the incremental marts select on it); dlt adds it to Arrow
# batches at extract.
dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
# PostgreSQL COPY from CSV loads faster than INSERT VALUES and is cheaper to write.
LOADER_FILE_FORMAT: TLoaderFileFormat = "csv"


def pipelines_dir(settings: Settings) -> Path:
    return settings.data_dir / "dlt"


def pipeline_name(tenant: Tenant) -> str:
    return f"xeno_{tenant.raw_schema}"


def destination_url(conninfo: str) -> str:
    """A `postgresql://` URL (what dlt accepts) for a libpq conninfo in either syntax."""
    if conninfo.startswith(("postgresql://", "postgres://")):
        return conninfo
    params: dict[str, Any] = conninfo_to_dict(conninfo)
    user = quote(str(params.pop("user", "")), safe="")
    password = quote(str(params.pop("password", "")), safe="")
    host = params.pop("host", "127.0.0.1")
    port = params.pop("port", "5432")
    dbname = quote(str(params.pop("dbname", "")), safe="")
    query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())
    return f"postgresql://{user}:{password}@{host}:{port}/{dbname}" + (f"?{query}" if query else "")


def tenant_pipeline(tenant: Tenant, settings: Settings) -> dlt.Pipeline:
    """The tenant's pipeline, loading into its raw schema in the warehouse."""
    return dlt.pipeline(
        pipeline_name=pipeline_name(tenant),
        pipelines_dir=str(pipelines_dir(settings)),
        destination=dlt.destinations.postgres(
            credentials=destination_url(resolve_database_url(settings))
        ),
        dataset_name=tenant.raw_schema,
    )


def last_cursor(pipeline: dlt.Pipeline, resource: str) -> datetime | None:
    """The committed `updated_at` cursor of a resource (None before its first load)."""
    resources = pipeline.state.get("sources", {}).get(SOURCE_NAME, {}).get("resources", {})
    value = resources.get(resource, {}).get(CURSOR)
    return None if value is None else datetime.fromisoformat(str(value))


class ContractMismatch(RuntimeError):
    """The tenant's raw schema was loaded under another raw contract: full refresh first."""


def _flattened(
    resource: str, paths: Sequence[Path], work_dir: Path, in_process: bool | None
) -> Iterator[tuple[str, Any]]:
    """The flattener's batches, its input already read: a malformed line raises here,
    before dlt starts a load."""
    batches = flatten(resource, paths, work_dir=work_dir, in_process=in_process)
    first = next(batches, None)
    return chain([first] if first is not None else [], batches)


def load_lines(
    pipeline: dlt.Pipeline,
    resource: str,
    lines: Sequence[Path] | Iterable[dict[str, Any]],
    *,
    cursor: datetime | None,
    in_process: bool | None = None,
) -> dict[str, int]:
    """Load bulk-format lines of one resource (JSONL files, or line objects from
    `ingestion.lines`) into its raw tables: flatten -> Arrow -> dlt, merged on Shopify id;
    a re-delivered record replaces all of its child rows. `cursor` (if given) becomes the
    resource's committed `updated_at` cursor, in dlt state, with the same load.
    `in_process`: whether DuckDB may run in this process (`ingestion.flatten.flatten`).

    Rows loaded per raw table. Raises `ingestion.flatten.FlattenError` on a malformed line
    and `ContractMismatch` for a raw schema of another contract; nothing is loaded then.
    """
    _check_contract(pipeline)
    if pipeline.has_pending_data:  # a load an earlier failure left: it goes first, whole
        pipeline.normalize()
        pipeline.load()
    work = Path(pipeline.working_dir) / "flatten"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work) as folder:
        items: list[Any] = list(lines)
        paths = [Path(p) for p in items if isinstance(p, str | Path)]
        if len(paths) < len(items):  # line objects: written out for the flattener
            paths = [Path(folder) / "lines.jsonl"]
            write_lines(items, paths[0])
        batches = _flattened(resource, paths, Path(folder), in_process)
        source = shopify_source({resource: batches}, {resource: cursor}).with_resources(resource)
        pipeline.extract(source, loader_file_format=LOADER_FILE_FORMAT)
    counts = pipeline.normalize().row_counts
    pipeline.load()
    _record_contract(pipeline)
    return {table: counts[table] for table in BY_NAME if table in counts}


CONTRACT_TABLE = "_xeno_contract"


def _contract_state(execute: Any, schema: str) -> tuple[bool, int | None]:
    """(whether anything was ever loaded into the schema, its recorded contract version)."""
    loaded = execute(
        "select count(*) from information_schema.tables where table_schema = %s "
        "and table_name = '_dlt_loads'",
        (schema,),
    )[0][0]
    has_marker = execute(
        "select count(*) from information_schema.tables where table_schema = %s "
        "and table_name = %s",
        (schema, CONTRACT_TABLE),
    )[0][0]
    if not has_marker:
        return bool(loaded), None
    rows = execute(f'select max(version) from "{schema}"."{CONTRACT_TABLE}"')
    return bool(loaded), rows[0][0]


def _outdated(loaded: bool, version: int | None) -> bool:
    return version != CONTRACT_VERSION if version is not None else loaded


def _check_contract(pipeline: dlt.Pipeline) -> None:
    with pipeline.sql_client() as client:
        loaded, version = _contract_state(
            lambda query, params=(): client.execute_sql(query, *params), pipeline.dataset_name
        )
    if _outdated(loaded, version):
        raise ContractMismatch(
            f"raw schema {pipeline.dataset_name} follows raw contract {version or 1}, "
            f"not {CONTRACT_VERSION}: a full refresh rebuilds it"
        )


def _record_contract(pipeline: dlt.Pipeline) -> None:
    with pipeline.sql_client() as client:
        table = f'"{pipeline.dataset_name}"."{CONTRACT_TABLE}"'
        client.execute_sql(
            f"create table if not exists {table} (version integer primary key, "
            "recorded_at timestamptz not null default now())"
        )
        client.execute_sql(
            f"insert into {table} (version) values (%s) on conflict do nothing", CONTRACT_VERSION
        )


def needs_full_refresh(conn: psycopg.Connection, tenant: Tenant) -> bool:
    """Whether the tenant's raw schema was loaded under another raw contract (or by the
    REST-era loader) and must be rebuilt by one full refresh before loading (`load_lines`
    refuses such a schema; the refresh's first load records the current contract)."""

    def execute(query: str, params: Any = None) -> list[tuple[Any, ...]]:
        return conn.execute(query, params).fetchall()

    return _outdated(*_contract_state(execute, tenant.raw_schema))


def mark_missing(
    conn: psycopg.Connection,
    tenant: Tenant,
    resource: str,
    live_ids_jsonl_path: Path,
    before: datetime,
) -> int:
    """Daily id reconciliation: flag as deleted (`_xeno_deleted_at`, a new `_dlt_load_id`)
    the raw root rows of `resource` whose id is not among the live ids (a bulk JSONL of
    `{"id": "gid://..."}` lines) and which were last updated before `before` (records made
    during the id listing are not in it), exactly as a delete webhook flags them.
    How many rows were flagged."""
    table = sql.Identifier(tenant.raw_schema, resource)
    exists = conn.execute(
        "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
        (tenant.raw_schema, resource),
    ).fetchone()
    if exists is None:
        return 0
    with conn.transaction():
        conn.execute("create temporary table live_ids (id bigint) on commit drop")
        with conn.cursor().copy("copy live_ids (id) from stdin") as copy:
            for batch in live_ids(live_ids_jsonl_path):
                for record_id in batch.column(0).to_pylist():
                    copy.write_row((record_id,))
        conn.execute("create index on live_ids (id)")
        conn.execute("analyze live_ids")
        return conn.execute(
            sql.SQL(
                "update {table} as raw set {deleted} = now(), _dlt_load_id = %s "
                "where raw.{deleted} is null and raw.updated_at < %s "
                "and not exists (select 1 from live_ids where live_ids.id = raw.id)"
            ).format(table=table, deleted=sql.Identifier(DELETED_AT)),
            (new_load_id(), before),
        ).rowcount
