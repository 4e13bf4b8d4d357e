"""One sync of one tenant: lock, run record, plan, and committed loads of the store.

`run_sync` is what the CLI, the API's worker and Dagster call. It takes a PostgreSQL
session advisory lock per tenant for its whole duration (released by the server even if
the process is killed), records the run in `app.sync_runs`, finishes any load package a
killed sync left behind, then loads the store in steps: the shop and every resource that
fits one window together, then each larger resource window by window. Each step is a
full dlt extract -> normalize -> load, so its cursors commit with its data.
"""

from __future__ import annotations

import functools
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import dlt
import psycopg
from dlt.extract.exceptions import ResourceExtractionError
from psycopg import sql

from core import db, locks, tenants
from core.settings import Settings
from ingestion import runs
from ingestion.client import ShopifyClient, ShopifyError, connect
from ingestion.pipeline import LOADER_FILE_FORMAT, last_cursor, tenant_pipeline
from ingestion.progress import ProgressCallback, ProgressTracker
from ingestion.runs import SyncRun
from ingestion.source import ENDPOINTS, Endpoint, shopify_source, shopify_time
from ingestion.windows import plan_windows


class SyncError(RuntimeError):
    """A sync could not run or did not finish; the message is safe to show."""


class SyncBusy(SyncError):
    """Another sync of the same tenant holds the lock."""


class SyncFailed(SyncError):
    """The sync ran and failed; `run` is its recorded outcome."""

    def __init__(self, message: str, run: SyncRun) -> None:
        super().__init__(message)
        self.run = run


@dataclass(frozen=True)
class Step:
    """One committed load: which resources, each capped at an `updated_at_max` or open."""

    resources: tuple[str, ...]
    caps: dict[str, datetime] = field(default_factory=dict)


def run_sync(
    tenant_id: uuid.UUID,
    settings: Settings,
    *,
    full_refresh: bool = False,
    trigger: str = "cli",
    run_id: uuid.UUID | None = None,
    progress: ProgressCallback | None = None,
) -> SyncRun:
    """Load the tenant's store into its raw schema and return the finished run.

    Raises SyncBusy if the tenant is already syncing, TenantNotFound for an unknown
    tenant, runs.RunConflict if `run_id` is not a queued run of this tenant, and
    SyncFailed (after recording the failure) if the sync itself fails.
    """
    with db.connect(settings, autocommit=True) as conn:
        if not locks.try_lock(conn, tenant_id):  # held until this connection closes
            raise SyncBusy(f"a sync of tenant {tenant_id} is already running")
        tenant = tenants.get(conn, tenant_id)
        run = runs.start(conn, tenant_id, trigger=trigger, full_refresh=full_refresh, run_id=run_id)
        rows: Counter[str] = Counter()
        try:
            _load(conn, tenant, run, rows, progress, settings)
        except BaseException as exc:
            message = failure_message(tenant, exc)
            failed = runs.finish(conn, run.id, rows=dict(rows), error=message)
            if isinstance(exc, Exception):
                raise SyncFailed(message, failed) from exc
            raise
        return runs.finish(conn, run.id, rows=dict(rows))


def _load(
    conn: psycopg.Connection,
    tenant: tenants.Tenant,
    run: SyncRun,
    rows: Counter[str],
    progress: ProgressCallback | None,
    settings: Settings,
) -> None:
    token = tenants.credentials(conn, tenant.id, settings).access_token
    client = connect(tenant.shop_domain, token, settings)
    tracker = ProgressTracker(client.pacer, progress)
    pipeline = tenant_pipeline(tenant, settings)

    def commit() -> None:
        pipeline.load()
        rows.update(tracker.committed())
        runs.record_progress(conn, run.id, dict(rows))

    with client.session:
        if run.full_refresh:
            pipeline = _drop_raw_data(conn, pipeline, tenant)
        elif pipeline.has_pending_data:
            # A killed sync extracted data it never loaded: load it before moving on, so
            # its committed cursors and its rows arrive together.
            tracker.phase("load")
            pipeline.normalize(workers=settings.ingestion.normalize_workers)
            commit()
        pipeline.sync_destination()
        for step in plan(client, pipeline, tracker, settings):
            source = shopify_source(
                client,
                lookback_seconds=settings.ingestion.lookback_seconds,
                updated_before=step.caps,
                on_page=tracker.page,
            ).with_resources(*step.resources)
            tracker.phase("extract", step.resources[0] if len(step.resources) == 1 else None)
            pipeline.extract(source, loader_file_format=LOADER_FILE_FORMAT)
            tracker.phase("normalize")
            pipeline.normalize(workers=settings.ingestion.normalize_workers)
            tracker.phase("load")
            commit()


def _drop_raw_data(
    conn: psycopg.Connection, pipeline: dlt.Pipeline, tenant: tenants.Tenant
) -> dlt.Pipeline:
    """--full-refresh: drop the raw schema (and dlt's staging twin) and all local state."""
    for schema in (tenant.raw_schema, f"{tenant.raw_schema}_staging"):
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
    return pipeline.drop()


def plan(
    client: ShopifyClient, pipeline: dlt.Pipeline, tracker: ProgressTracker, settings: Settings
) -> Iterator[Step]:
    """The shop and small resources in one step, then each large resource per window."""
    now = datetime.now(UTC)
    lag = timedelta(seconds=settings.ingestion.lookback_seconds)
    together = ["shop"]
    windowed: list[Step] = []
    for endpoint in ENDPOINTS:
        cursor = last_cursor(pipeline, endpoint.resource)
        start = cursor - lag if cursor is not None else None
        total = _count(client, endpoint, start, None)
        tracker.expect(endpoint.resource, total)
        if total <= settings.ingestion.window_records:
            together.append(endpoint.resource)
            continue
        bounds = plan_windows(
            functools.partial(_count, client, endpoint),
            start,
            now,
            total,
            settings.ingestion.window_records,
        )
        windowed.extend(
            Step((endpoint.resource,), {endpoint.resource: b} if b else {}) for b in bounds
        )
    yield Step(tuple(together))
    yield from windowed


def _count(
    client: ShopifyClient, endpoint: Endpoint, start: datetime | None, end: datetime | None
) -> int:
    params = dict(endpoint.params)
    if start is not None:
        params["updated_at_min"] = shopify_time(start)
    if end is not None:
        params["updated_at_max"] = shopify_time(end)
    try:
        return client.count(endpoint.count_path, params)
    except ShopifyError as exc:
        raise type(exc)(f"{endpoint.resource}: {exc}") from exc


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [current.__cause__, current.__context__, getattr(current, "exception", None)]


def failure_message(tenant: tenants.Tenant, exc: BaseException) -> str:
    """One line naming the tenant, the resource and the failed call (never a secret)."""
    where = f"sync of tenant {tenant.id} ({tenant.shop_domain}) failed"
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        return f"{where}: {runs.INTERRUPTED}"
    resource = next(
        (e.pipe_name for e in _causes(exc) if isinstance(e, ResourceExtractionError)), None
    )
    shopify = next((e for e in _causes(exc) if isinstance(e, ShopifyError)), None)
    if shopify is not None:
        return f"{where}: {resource}: {shopify}" if resource else f"{where}: {shopify}"
    return f"{where}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
