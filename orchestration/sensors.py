"""Sensors: the tenant registry and the API's sync requests, turned into Dagster work.

Each sensor compares what the database holds now with what its cursor says it already
handled, so an evaluation with nothing new yields nothing. Both read `app` tables with
the pipeline's credentials. Add a sensor by writing one function and listing it in
`SENSORS`.
"""

from __future__ import annotations

import psycopg
from dagster import (
    DefaultSensorStatus,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from core.db import resolve_database_url
from orchestration.jobs import TENANT_SYNC_JOB, SyncRequest, sync_run_request
from orchestration.partitions import TENANTS


def _ids(cursor: str | None) -> set[str]:
    return set(cursor.split(",")) if cursor else set()


def _cursor(ids: set[str]) -> str:
    return ",".join(sorted(ids))


@sensor(
    name="tenant_partitions",
    job=TENANT_SYNC_JOB,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Keeps one partition per tenant of app.tenants; a new tenant gets its "
    "first backfill, a deleted tenant's partition is removed.",
)
def tenant_partitions(context: SensorEvaluationContext) -> SensorResult | SkipReason:
    """Cursor: the tenant ids seen last time (first time: the partitions that exist)."""
    with psycopg.connect(resolve_database_url()) as conn:
        registry = {str(t) for (t,) in conn.execute("select id from app.tenants").fetchall()}
    known = (
        _ids(context.cursor)
        if context.cursor is not None
        else set(context.instance.get_dynamic_partitions(TENANTS.name))
    )
    added, removed = sorted(registry - known), sorted(known - registry)
    if not added and not removed:
        context.update_cursor(_cursor(registry))
        return SkipReason("tenants unchanged")
    requests = []
    if added:
        requests.append(TENANTS.build_add_request(added))
    if removed:
        requests.append(TENANTS.build_delete_request(removed))
    return SensorResult(
        run_requests=[
            sync_run_request(t, SyncRequest(trigger="sensor"), run_key=f"backfill:{t}")
            for t in added
        ],
        dynamic_partitions_requests=requests,
        cursor=_cursor(registry),
    )


@sensor(
    name="api_sync_requests",
    job=TENANT_SYNC_JOB,
    minimum_interval_seconds=10,
    default_status=DefaultSensorStatus.RUNNING,
    description="Runs each sync a retailer requested through the API (a queued "
    "app.sync_runs row); the run records its progress and outcome in that row.",
)
def api_sync_requests(context: SensorEvaluationContext) -> SensorResult | SkipReason:
    """Cursor: the queued requests already launched (a request leaves it once it runs).

    A request of a tenant that is not a partition yet waits for the tenants sensor.
    """
    with psycopg.connect(resolve_database_url()) as conn:
        queued = conn.execute(
            "select id, tenant_id, full_refresh from app.sync_runs "
            "where status = 'queued' and trigger = 'api' order by requested_at, id"
        ).fetchall()
    partitions = set(context.instance.get_dynamic_partitions(TENANTS.name))
    launched = _ids(context.cursor)
    runs = [
        sync_run_request(
            str(tenant),
            SyncRequest(trigger="api", sync_id=str(sync_id), full_refresh=full_refresh),
            run_key=str(sync_id),
        )
        for sync_id, tenant, full_refresh in queued
        if str(sync_id) not in launched and str(tenant) in partitions
    ]
    still_queued = {str(sync_id) for sync_id, _, _ in queued}
    cursor = _cursor((launched & still_queued) | {r.run_key for r in runs if r.run_key})
    if not runs:
        context.update_cursor(cursor)
        return SkipReason("no new sync requests")
    return SensorResult(run_requests=runs, cursor=cursor)


SENSORS: tuple[SensorDefinition, ...] = (tenant_partitions, api_sync_requests)
