"""One dlt pipeline per tenant: its own name, working folder and raw schema.

Separate pipeline names keep tenants' incremental state, load packages and schemas apart
(and let syncs of different tenants run at once); the dataset is the tenant's reserved
`raw_schema`. The working folder lives in DATA_DIR/dlt; the state that matters (cursors)
is also committed to the warehouse with every load, so a lost folder is restored from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dlt
import psycopg
from psycopg.conninfo import conninfo_to_dict

from core.db import resolve_database_url
from core.settings import Settings, get_settings
from core.tenants import Tenant
from ingestion.source import CURSOR, SOURCE_NAME

# The product must run offline and keep tenants' data to itself: no usage telemetry.
dlt.config["runtime.dlthub_telemetry"] = False
# Intermediate files are written, read once and deleted on the same disk: gzip only costs
# CPU (measured: a third of normalize time). See docs/ingestion.md.
dlt.config["data_writer.disable_compression"] = True
# dlt buffers this many items per table before writing them out, at extract (whole Shopify
# records, ~7 KB of JSON each) and at normalise (rows, and the extract's lines are read back
# whole): peak memory follows it, not the store's size. 5,000 (dlt's default) peaked at
# 660 MiB for 10,000 orders, 1,000 at 300 MiB, for the same CPU. See docs/ingestion.md.
dlt.config["data_writer.buffer_max_items"] = 1000
# Shopify leaves many fields always null and dlt warns about each such column on every
# load (CLI, API worker and Dagster runs alike); real problems still surface as errors.
dlt.config["runtime.log_level"] = "ERROR"
# PostgreSQL COPY from CSV loads faster than INSERT VALUES and is cheaper to write.
LOADER_FILE_FORMAT = "csv"


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


def tenant_pipeline(tenant: Tenant, settings: Settings | None = None) -> dlt.Pipeline:
    """The tenant's pipeline, loading into its raw schema in the warehouse."""
    settings = settings or get_settings()
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
    value = resources.get(resource, {}).get("incremental", {}).get(CURSOR, {}).get("last_value")
    if value is None:
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def load_lines(
    pipeline: dlt.Pipeline,
    resource: str,
    lines: Sequence[Path] | Iterable[dict[str, Any]],
    *,
    cursor: datetime | None,
) -> dict[str, int]:
    """Load bulk-format lines of one resource (JSONL files, or line objects from
    `ingestion.lines`) into its raw tables: flatten -> Arrow -> dlt, merged on Shopify id;
    a re-delivered record replaces all of its child rows. `cursor` (if given) becomes the
    resource's committed `updated_at` cursor, in dlt state, with the same load.
    Rows loaded per raw table. Raises `ingestion.flatten.FlattenError` on a malformed line
    (nothing is loaded)."""
    raise NotImplementedError


def mark_missing(
    conn: psycopg.Connection,
    tenant: Tenant,
    resource: str,
    live_ids_jsonl_path: Path,
    before: datetime,
) -> int:
    """Daily id reconciliation: flag as deleted (`_xeno_deleted_at`, a new `_dlt_load_id`)
    the raw root rows of `resource` whose id is not in the live ids (a bulk JSONL of
    `{"id": "gid://..."}` lines) and which were last updated before `before`, exactly as a
    delete webhook flags them. How many rows were flagged."""
    raise NotImplementedError


def needs_full_refresh(conn: psycopg.Connection, tenant: Tenant) -> bool:
    """Whether the tenant's raw schema was loaded under another raw contract (or by the
    REST-era loader) and must be rebuilt by one full refresh before loading."""
    raise NotImplementedError


def record_contract(conn: psycopg.Connection, tenant: Tenant) -> None:
    """Note that the tenant's raw schema now follows `raw_contract.CONTRACT_VERSION`
    (call after the full refresh's first successful load)."""
    raise NotImplementedError
