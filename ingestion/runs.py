"""Sync run records (`app.sync_runs`): what each sync did, for the API, CLI and Dagster.

A run is `queued` (requested through the API, not started), `running`, `succeeded` or
`failed`; the table allows one queued-or-running run per tenant. Only `ingestion.sync`
moves a run to running and beyond, while it holds the tenant's sync lock.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

INTERRUPTED = "interrupted: the process running this sync ended before it finished"
_COLUMNS = (
    "id, tenant_id, trigger, full_refresh, status, requested_at, started_at, finished_at, "
    "rows_loaded, error"
)


class RunConflict(RuntimeError):
    """A run cannot start or be queued now; the message says why."""


class SyncRun(msgspec.Struct, frozen=True):
    id: uuid.UUID
    tenant_id: uuid.UUID
    trigger: str
    full_refresh: bool
    status: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    rows_loaded: dict[str, int]
    error: str | None


def _one(conn: psycopg.Connection, query: str, params: tuple[Any, ...]) -> SyncRun | None:
    with conn.cursor(row_factory=class_row(SyncRun)) as cur:
        cur.execute(query, params)
        return cur.fetchone()


def queue(
    conn: psycopg.Connection, tenant_id: uuid.UUID, *, trigger: str, full_refresh: bool = False
) -> SyncRun:
    """Record a requested sync (the API answers 202 with its id; a worker runs it)."""
    try:
        run = _one(
            conn,
            f"insert into app.sync_runs (tenant_id, trigger, full_refresh) values (%s, %s, %s) "
            f"returning {_COLUMNS}",
            (tenant_id, trigger, full_refresh),
        )
    except psycopg.errors.UniqueViolation as exc:
        raise RunConflict(f"a sync of tenant {tenant_id} is already queued or running") from exc
    assert run is not None
    return run


def start(
    conn: psycopg.Connection,
    tenant_id: uuid.UUID,
    *,
    trigger: str,
    full_refresh: bool,
    run_id: uuid.UUID | None,
) -> SyncRun:
    """Mark a run running: the queued `run_id`, else a queued request, else a new run.

    The caller holds the tenant's sync lock, so a `running` row found now belongs to a
    process that died (kill -9, lost machine): it is closed as interrupted first.
    """
    conn.execute(
        "update app.sync_runs set status = 'failed', finished_at = now(), error = %s "
        "where tenant_id = %s and status = 'running'",
        (INTERRUPTED, tenant_id),
    )
    if run_id is None:
        queued = conn.execute(
            "select id from app.sync_runs where tenant_id = %s and status = 'queued'",
            (tenant_id,),
        ).fetchone()
        run_id = queued[0] if queued else None
    if run_id is not None:
        run = _one(
            conn,
            f"update app.sync_runs set status = 'running', started_at = now(), "
            f"full_refresh = full_refresh or %s where id = %s and tenant_id = %s "
            f"and status = 'queued' returning {_COLUMNS}",
            (full_refresh, run_id, tenant_id),
        )
        if run is None:
            raise RunConflict(f"sync run {run_id} of tenant {tenant_id} is not queued")
        return run
    try:
        run = _one(
            conn,
            f"insert into app.sync_runs (tenant_id, trigger, full_refresh, status, started_at) "
            f"values (%s, %s, %s, 'running', now()) returning {_COLUMNS}",
            (tenant_id, trigger, full_refresh),
        )
    except psycopg.errors.UniqueViolation as exc:
        raise RunConflict(f"a sync of tenant {tenant_id} was queued meanwhile") from exc
    assert run is not None
    return run


def record_progress(conn: psycopg.Connection, run_id: uuid.UUID, rows: dict[str, int]) -> None:
    """Publish the rows committed so far (each committed window updates them)."""
    conn.execute("update app.sync_runs set rows_loaded = %s where id = %s", (Jsonb(rows), run_id))


def finish(
    conn: psycopg.Connection,
    run_id: uuid.UUID,
    *,
    rows: dict[str, int],
    error: str | None = None,
) -> SyncRun:
    """Close a run: succeeded without `error`, failed with it."""
    run = _one(
        conn,
        f"update app.sync_runs set status = %s, finished_at = now(), rows_loaded = %s, "
        f"error = %s where id = %s returning {_COLUMNS}",
        ("failed" if error else "succeeded", Jsonb(rows), error, run_id),
    )
    assert run is not None
    return run


def get_run(conn: psycopg.Connection, run_id: uuid.UUID) -> SyncRun | None:
    return _one(conn, f"select {_COLUMNS} from app.sync_runs where id = %s", (run_id,))


def list_runs(conn: psycopg.Connection, tenant_id: uuid.UUID, *, limit: int = 20) -> list[SyncRun]:
    """The tenant's most recent runs, newest first."""
    with conn.cursor(row_factory=class_row(SyncRun)) as cur:
        cur.execute(
            f"select {_COLUMNS} from app.sync_runs where tenant_id = %s "
            f"order by requested_at desc, id limit %s",
            (tenant_id, limit),
        )
        return cur.fetchall()
