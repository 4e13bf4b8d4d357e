"""Sync run records (`app.sync_runs`): the one module that writes them.

A run is `queued` (requested: through the API, or a new tenant's first sync), `running`,
`succeeded` or `failed`; the table allows one queued-or-running run per tenant, so a
request made while one is active gets that one. Only `ingestion.sync` moves a run to
running and beyond, while it holds the tenant's lock; the worker claims queued runs
(`claim`), queues first syncs (`queue_first_syncs`), puts runs a stop interrupted back
in the queue once (`requeue_interrupted`) and closes loaded runs whose build failed
(`fail_unbuilt`).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Literal

import msgspec
import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from core import locks

INTERRUPTED = "interrupted: the process running this sync ended before it finished"
# Triggers the worker runs (the schedule's and operators' syncs run in Dagster).
WORKER_TRIGGERS = ("api", "first")
# A run is started at most this often: once, and once more after an interruption.
MAX_ATTEMPTS = 2
_COLUMNS = (
    "id, tenant_id, trigger, full_refresh, status, requested_at, started_at, finished_at, "
    "rows_loaded, error"
)


class RunConflict(RuntimeError):
    """A run cannot start or be queued now; the message says why."""


RunStatus = Literal["queued", "running", "succeeded", "failed"]


class SyncRun(msgspec.Struct, frozen=True):
    id: uuid.UUID
    tenant_id: uuid.UUID
    trigger: str
    full_refresh: bool
    status: RunStatus
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    rows_loaded: dict[str, int]
    error: str | None


def _many(conn: psycopg.Connection, query: str, params: tuple[Any, ...]) -> list[SyncRun]:
    with conn.cursor(row_factory=class_row(SyncRun)) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def _one(conn: psycopg.Connection, query: str, params: tuple[Any, ...]) -> SyncRun | None:
    with conn.cursor(row_factory=class_row(SyncRun)) as cur:
        cur.execute(query, params)
        return cur.fetchone()


def _insert(conn: psycopg.Connection, query: str, params: tuple[Any, ...]) -> SyncRun:
    """An insert into app.sync_runs; RunConflict if the tenant already has an active run."""
    try:
        run = _one(conn, query, params)
    except psycopg.errors.UniqueViolation as exc:
        raise RunConflict(f"a sync of tenant {params[0]} is already queued or running") from exc
    assert run is not None
    return run


def queue(
    conn: psycopg.Connection, tenant_id: uuid.UUID, *, trigger: str, full_refresh: bool = False
) -> SyncRun:
    """Record a requested sync (the API answers 202 with its id; the worker runs it)."""
    return _insert(
        conn,
        f"insert into app.sync_runs (tenant_id, trigger, full_refresh) values (%s, %s, %s) "
        f"returning {_COLUMNS}",
        (tenant_id, trigger, full_refresh),
    )


def request(
    conn: psycopg.Connection, tenant_id: uuid.UUID, *, trigger: str, full_refresh: bool = False
) -> tuple[SyncRun, bool]:
    """The tenant's active run, queuing one if there is none; True if it is new."""
    while True:
        try:
            with conn.transaction():
                return queue(conn, tenant_id, trigger=trigger, full_refresh=full_refresh), True
        except RunConflict:
            active = _one(
                conn,
                f"select {_COLUMNS} from app.sync_runs where tenant_id = %s "
                f"and status in ('queued', 'running')",
                (tenant_id,),
            )
            if active is not None:  # else it finished meanwhile: queue again
                return active, False


def queue_first_syncs(conn: psycopg.Connection) -> list[uuid.UUID]:
    """Queue one `first` sync for every tenant that never had a run; their ids."""
    rows = conn.execute(
        "insert into app.sync_runs (tenant_id, trigger) "
        "select t.id, 'first' from app.tenants t "
        "where not exists (select from app.sync_runs r where r.tenant_id = t.id) "
        "on conflict do nothing returning tenant_id"
    ).fetchall()
    return [tenant for (tenant,) in rows]


def claim(
    conn: psycopg.Connection, triggers: Sequence[str], *, exclude: Collection[uuid.UUID] = ()
) -> SyncRun | None:
    """The oldest queued run of `triggers` whose tenant no one is syncing, if any.

    The claim is advisory: `start` moves it to running under the tenant's lock, so two
    workers that claim the same run start it once (the other gets RunConflict).
    """
    return _one(
        conn,
        f"select {_COLUMNS} from app.sync_runs where status = 'queued' and trigger = any(%s) "
        f"and not (tenant_id = any(%s)) and {locks.CLAIMABLE.format(tenant='tenant_id')} "
        f"order by requested_at, id limit 1 for update skip locked",
        (list(triggers), list(exclude), locks.NAMESPACE),
    )


# Set on a run a dead process left running: once more to the queue, or closed as failed.
_REQUEUE = (
    "update app.sync_runs set status = 'queued', started_at = null, error = %s "
    "where status = 'running' and trigger = any(%s) and attempts < %s and {which} "
    f"returning {_COLUMNS}"
)
_FAIL = (
    "update app.sync_runs set status = 'failed', finished_at = now(), error = %s "
    f"where status = 'running' and {{which}} returning {_COLUMNS}"
)


def _interrupted(conn: psycopg.Connection, which: str, param: Any) -> list[SyncRun]:
    """Requeue (worker triggers, once) or fail the running runs matching `which`."""
    again = (INTERRUPTED + "; queued again", list(WORKER_TRIGGERS), MAX_ATTEMPTS, param)
    with conn.transaction():
        requeued = _many(conn, _REQUEUE.format(which=which), again)
        return requeued + _many(conn, _FAIL.format(which=which), (INTERRUPTED, param))


def requeue_interrupted(conn: psycopg.Connection) -> list[SyncRun]:
    """Runs left `running` by a process that died (their tenant's lock is free).

    The worker's runs (a user's request, a first sync) go back to the queue once, keeping
    their id; other runs, and runs interrupted twice, are closed as interrupted.
    """
    return _interrupted(conn, locks.CLAIMABLE.format(tenant="tenant_id"), locks.NAMESPACE)


def interrupt(conn: psycopg.Connection, run_ids: Sequence[uuid.UUID]) -> list[SyncRun]:
    """The same for runs this process is stopping in the middle of (it holds their locks)."""
    return _interrupted(conn, "id = any(%s)", list(run_ids))


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
            f"attempts = attempts + 1, error = null, full_refresh = full_refresh or %s "
            f"where id = %s and tenant_id = %s and status = 'queued' returning {_COLUMNS}",
            (full_refresh, run_id, tenant_id),
        )
        if run is None:
            raise RunConflict(f"sync run {run_id} of tenant {tenant_id} is not queued")
        return run
    return _insert(
        conn,
        f"insert into app.sync_runs (tenant_id, trigger, full_refresh, status, started_at, "
        f"attempts) values (%s, %s, %s, 'running', now(), 1) returning {_COLUMNS}",
        (tenant_id, trigger, full_refresh),
    )


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


def fail_unbuilt(conn: psycopg.Connection, tenant_id: uuid.UUID, error: str) -> None:
    """Close the tenant's loaded syncs still waiting for a build as failed with `error`.

    The API shows a loaded sync as `transforming` until a mart build follows it; after a
    failed build none will, so the retailer sees the failure and its reason instead.
    """
    conn.execute(
        "update app.sync_runs r set status = 'failed', error = %s "
        "where r.tenant_id = %s and r.status = 'succeeded' and r.finished_at > coalesce("
        "(select b.built_at from app.mart_builds b where b.tenant_id = r.tenant_id), "
        "'-infinity')",
        (error, tenant_id),
    )


def get_run(conn: psycopg.Connection, run_id: uuid.UUID) -> SyncRun | None:
    return _one(conn, f"select {_COLUMNS} from app.sync_runs where id = %s", (run_id,))


def list_runs(conn: psycopg.Connection, tenant_id: uuid.UUID, *, limit: int = 20) -> list[SyncRun]:
    """The tenant's most recent runs, newest first."""
    return _many(
        conn,
        f"select {_COLUMNS} from app.sync_runs where tenant_id = %s "
        f"order by requested_at desc, id limit %s",
        (tenant_id, limit),
    )
