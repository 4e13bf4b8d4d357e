"""One sync of one tenant over Shopify's GraphQL Admin API: lock, run record, loads.

`run_sync` is what the CLI, the worker and Dagster call. It takes a PostgreSQL session
advisory lock per tenant for its whole duration (released by the server even if the
process is killed), records the run in `app.sync_runs`, finishes any load a killed sync
left behind, then loads the store:

- the shop, one query;
- **backfills** (a resource never loaded, a full refresh, or more changed records than
  SYNC_BULK_RECORDS) as bulk operations, all started at once and each loaded as it
  completes: its JSONL is downloaded to the tenant's working folder and flattened by
  DuckDB (`ingestion.pipeline.load_lines`); the cursor becomes the operation's creation
  time, so the next increment reads whatever changed while it ran;
- **increments** as pages of an `updated_at` search (with SYNC_LOOKBACK_SECONDS of
  lookback), paced by the calculated query cost, written as the same bulk lines;
- **reconciliation** (the daily sync, or when asked): a bulk listing of live ids per
  resource flags raw rows whose record no longer exists, as a delete webhook would.

Each load commits its resource's cursor with its rows, so a killed sync resumes without
gaps or duplicates: a bulk operation in flight is picked up again (`ingestion.bulk`).
"""

from __future__ import annotations

import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import dlt
import psycopg
from psycopg import sql

from core import db, locks, tenants
from core.settings import Settings
from ingestion import graphql, runs
from ingestion.bulk import BulkOperations
from ingestion.graphql import ShopifyError
from ingestion.lines import page_lines, write_lines
from ingestion.pipeline import (
    last_cursor,
    load_lines,
    mark_missing,
    needs_full_refresh,
    tenant_pipeline,
)
from ingestion.progress import ProgressCallback, ProgressTracker
from ingestion.queries import RESOURCES, Resource
from ingestion.runs import SyncRun


class SyncError(RuntimeError):
    """A sync could not run or did not finish; the message is safe to show."""


class SyncBusy(SyncError):
    """Another sync of the same tenant holds the lock."""


class SyncFailed(SyncError):
    """The sync ran and failed; `run` is its recorded outcome."""

    def __init__(self, message: str, run: SyncRun) -> None:
        super().__init__(message)
        self.run = run


def run_sync(
    tenant_id: uuid.UUID,
    settings: Settings,
    *,
    full_refresh: bool = False,
    reconcile: bool | None = None,
    trigger: str = "cli",
    run_id: uuid.UUID | None = None,
    progress: ProgressCallback | None = None,
) -> SyncRun:
    """Load the tenant's store into its raw schema and return the finished run.

    `reconcile` (default: only for the daily schedule) also flags records deleted in the
    store without a webhook. Raises SyncBusy if the tenant is already syncing,
    TenantNotFound for an unknown tenant, runs.RunConflict if `run_id` is not a queued
    run of this tenant, and SyncFailed (after recording the failure) if the sync fails.
    """
    if reconcile is None:
        reconcile = trigger == "schedule"
    with db.connect(settings, autocommit=True) as conn:
        if not locks.try_lock(conn, tenant_id):  # held until this connection closes
            raise SyncBusy(f"a sync of tenant {tenant_id} is already running")
        tenant = tenants.get(conn, tenant_id)
        run = runs.start(conn, tenant_id, trigger=trigger, full_refresh=full_refresh, run_id=run_id)
        rows: Counter[str] = Counter()
        try:
            _Sync(conn, tenant, run, rows, progress, settings).run(reconcile=reconcile)
        except BaseException as exc:
            message = failure_message(tenant, exc)
            failed = runs.finish(conn, run.id, rows=dict(rows), error=message)
            if isinstance(exc, Exception):
                raise SyncFailed(message, failed) from exc
            raise
        return runs.finish(conn, run.id, rows=dict(rows))


def work_dir(tenant: tenants.Tenant, settings: Settings) -> Path:
    """The tenant's sync folder: bulk operation ids and downloads survive a killed sync."""
    return settings.data_dir / "sync" / tenant.raw_schema


def updated_since(moment: datetime) -> str:
    """Shopify's search for records updated at or after a moment."""
    return f"updated_at:>='{moment.isoformat(timespec='seconds')}'"


class _Sync:
    """The steps of one run, sharing its client, pipeline, progress and row counts."""

    def __init__(
        self,
        conn: psycopg.Connection,
        tenant: tenants.Tenant,
        run: SyncRun,
        rows: Counter[str],
        progress: ProgressCallback | None,
        settings: Settings,
    ) -> None:
        self.conn, self.tenant, self.run_record, self.rows = conn, tenant, run, rows
        self.progress, self.settings = progress, settings
        self.folder = work_dir(tenant, settings)

    def run(self, *, reconcile: bool) -> None:
        token = tenants.credentials(self.conn, self.tenant.id, self.settings).access_token
        with graphql.connect(self.tenant.shop_domain, token, self.settings) as client:
            self.client = client
            self.tracker = ProgressTracker(client.pacer, self.progress)
            with BulkOperations(
                client, self.folder, self.settings, on_status=self.tracker.bulk
            ) as bulk:
                self.bulk = bulk
                self.pipeline = self._prepare()
                # A first sync (or full refresh) reads whole stores: DuckDB then runs only
                # in child processes, so this process's memory does not grow by its 65 MiB.
                first = any(last_cursor(self.pipeline, r.name) is None for r in RESOURCES)
                self.in_process: bool | None = False if first else None
                self._load_shop()
                backfills = self._backfill(self._plan())
                if reconcile:
                    self._reconcile(skip=backfills)

    def _prepare(self) -> dlt.Pipeline:
        """The tenant's pipeline, rebuilt for a full refresh (or an outdated raw contract),
        else with any load a killed sync left behind finished first."""
        pipeline = tenant_pipeline(self.tenant, self.settings)
        if self.run_record.full_refresh or needs_full_refresh(self.conn, self.tenant):
            for schema in (self.tenant.raw_schema, f"{self.tenant.raw_schema}_staging"):
                self.conn.execute(
                    sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema))
                )
            shutil.rmtree(self.folder, ignore_errors=True)
            return pipeline.drop()
        if pipeline.has_pending_data:
            # A killed sync extracted data it never loaded: load it before moving on, so
            # its committed cursors and its rows arrive together.
            self.tracker.phase("load")
            pipeline.normalize()
            pipeline.load()
        pipeline.sync_destination()
        return pipeline

    def _commit(self, resource: str, loaded: dict[str, int]) -> None:
        self.rows[resource] += loaded.get(resource, 0)
        runs.record_progress(self.conn, self.run_record.id, dict(self.rows))

    def _load_shop(self) -> None:
        self.tracker.phase("extract", "shop")
        shop = self.client.shop()
        self.tracker.page("shop", 1)
        lines = list(page_lines("shop", [shop]))
        loaded = load_lines(self.pipeline, "shop", lines, cursor=None, in_process=self.in_process)
        self._commit("shop", loaded)

    def _plan(self) -> Iterator[Resource]:
        """Load each increment now; yield the resources that need a bulk backfill."""
        lag = timedelta(seconds=self.settings.ingestion.lookback_seconds)
        for resource in RESOURCES:
            cursor = last_cursor(self.pipeline, resource.name)
            if cursor is None:
                yield resource
                continue
            search = updated_since(cursor - lag)
            self.tracker.phase("plan", resource.name)
            expected = self.client.count(resource, search)
            self.tracker.expect(resource.name, expected)
            paged = expected <= self.settings.ingestion.bulk_records
            if expected and not (paged and self._increment(resource, search, cursor)):
                yield resource

    def _increment(self, resource: Resource, search: str, cursor: datetime) -> bool:
        """Page through the records changed since the cursor (with lookback) and load them;
        the new cursor is the newest `updated_at` seen. False, loading nothing, when a
        record has more nested nodes than a page reads (a bulk operation reads it whole)."""
        self.tracker.phase("extract", resource.name)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{resource.name}.pages.jsonl"
        path.unlink(missing_ok=True)
        newest = cursor
        for nodes in self.client.pages(resource, search):
            if any(resource.truncated(node) for node in nodes):
                path.unlink(missing_ok=True)
                return False
            self.tracker.page(resource.name, len(nodes))
            newest = max(newest, *(datetime.fromisoformat(n["updatedAt"]) for n in nodes))
            write_lines(page_lines(resource.name, nodes), path)
        if path.exists():
            self.tracker.phase("load", resource.name)
            loaded = load_lines(
                self.pipeline, resource.name, [path], cursor=newest, in_process=self.in_process
            )
            self._commit(resource.name, loaded)
            path.unlink()
        return True

    def _backfill(self, resources: Iterator[Resource]) -> set[str]:
        """One bulk operation per resource, all at once; each loaded as it completes."""
        wanted = list(resources)
        if not wanted:
            return set()
        lag = timedelta(seconds=self.settings.ingestion.lookback_seconds)
        queries = {}
        for resource in wanted:
            cursor = last_cursor(self.pipeline, resource.name)
            since = None if cursor is None else updated_since(cursor - lag)
            queries[resource.name] = resource.bulk_query(since)
        self.tracker.phase("bulk")
        handles = self.bulk.start_many(queries)
        for handle, status in self.bulk.completed(handles):
            path = self.folder / f"{handle.resource}.bulk.jsonl"
            self.tracker.phase("download", handle.resource)
            self.bulk.download(handle, status, path)
            self.tracker.phase("load", handle.resource)
            loaded = load_lines(
                self.pipeline,
                handle.resource,
                [path],
                cursor=status.created_at,
                in_process=self.in_process,
            )
            self._commit(handle.resource, loaded)
            self.bulk.finish(handle)
            path.unlink(missing_ok=True)
        return set(queries)

    def _reconcile(self, skip: set[str]) -> None:
        """Flag raw rows whose record is gone from the store (no delete webhook came)."""
        wanted = {r.name: r.ids_query() for r in RESOURCES if r.name not in skip}
        if not wanted:
            return
        self.tracker.phase("reconcile")
        for handle, status in self.bulk.completed(self.bulk.start_many(wanted, purpose="ids")):
            path = self.folder / f"{handle.resource}.ids.jsonl"
            self.bulk.download(handle, status, path)
            gone = mark_missing(self.conn, self.tenant, handle.resource, path, status.created_at)
            if gone:
                self.rows[f"{handle.resource} deleted"] += gone
            self.bulk.finish(handle)
            path.unlink(missing_ok=True)
        runs.record_progress(self.conn, self.run_record.id, dict(self.rows))


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
    """One line naming the tenant and the failed call or step (never a secret)."""
    where = f"sync of tenant {tenant.id} ({tenant.shop_domain}) failed"
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        return f"{where}: {runs.INTERRUPTED}"
    shopify = next((e for e in _causes(exc) if isinstance(e, ShopifyError)), None)
    if shopify is not None:
        return f"{where}: {shopify}"
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    return f"{where}: {type(exc).__name__}: {first_line}"
