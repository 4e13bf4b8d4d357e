"""Sensors: the tenant registry, the API's sync requests, pending webhooks and due
tenant deletions, turned into Dagster work.

Each sensor compares what the database holds now with what its cursor says it already
handled, so an evaluation with nothing new yields nothing. All read `app` tables with
the pipeline's credentials. Add a sensor by writing one function and listing it in
`SENSORS`.
"""

from __future__ import annotations

import json
import time

import psycopg
from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from core.db import resolve_database_url
from core.settings import Settings, get_settings
from ingestion import webhook_privacy
from ingestion.webhooks import pending_by_tenant
from orchestration.jobs import (
    TENANT_SYNC_JOB,
    TENANT_WEBHOOKS_JOB,
    SyncRequest,
    sync_run_request,
)
from orchestration.partitions import TENANTS, batches
from orchestration.purge import tenant_purge


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
    # New partitions are appended in the order added: their first backfills go in batches
    # of contiguous partitions (many at once on a first tick or a bulk import).
    existing = context.instance.get_dynamic_partitions(TENANTS.name)
    order = [*existing, *sorted(set(added) - set(existing))]
    size = get_settings().orchestration_batch_size
    return SensorResult(
        run_requests=[
            sync_run_request(batch, SyncRequest(trigger="sensor"), run_key=f"backfill:{batch[0]}")
            for batch in batches(order, set(added), size)
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
            [str(tenant)],
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


# A tenant whose due events are unchanged this long after its run was requested is
# requested again: that run may have given up on a tenant a long sync kept locked.
WEBHOOKS_RETRY_AFTER_SECONDS = 15 * 60


def pending_webhooks_sensor(settings: Settings) -> SensorDefinition:
    """Every WEBHOOK_APPLY_INTERVAL_SECONDS (60 when 0, i.e. no API worker)."""

    @sensor(
        name="pending_webhooks",
        job=TENANT_WEBHOOKS_JOB,
        minimum_interval_seconds=settings.webhook_apply_interval_seconds or 60,
        default_status=DefaultSensorStatus.RUNNING,
        description="Applies each tenant's stored webhooks (app.webhook_events) to its raw "
        "tables, then rebuilds its mart slice: one run per tenant with events due.",
    )
    def pending_webhooks(context: SensorEvaluationContext) -> SensorResult | SkipReason:
        """Cursor: per tenant still pending, the due events' (newest id, attempts) last
        requested and when. New events or a failed batch come due again change them.

        A tenant that is not a partition yet waits for the tenants sensor.
        """
        seen: dict[str, list] = json.loads(context.cursor) if context.cursor else {}
        partitions = set(context.instance.get_dynamic_partitions(TENANTS.name))
        now = int(time.time())
        cursor: dict[str, list] = {}
        runs: list[RunRequest] = []
        for tenant_uuid, due in pending_by_tenant().items():
            tenant, state = str(tenant_uuid), f"{due[0]}.{due[1]}"
            if tenant not in partitions:
                continue
            last = seen.get(tenant)
            if last and last[0] == state and now - last[1] < WEBHOOKS_RETRY_AFTER_SECONDS:
                cursor[tenant] = last
                continue
            cursor[tenant] = [state, now]
            runs.append(
                RunRequest(
                    run_key=f"webhooks:{tenant}:{state}:{now}",
                    partition_key=tenant,
                    job_name=TENANT_WEBHOOKS_JOB.name,
                    tags={"xeno/webhook_events": state},
                )
            )
        if not runs:
            context.update_cursor(json.dumps(cursor, sort_keys=True))
            return SkipReason("no new pending webhooks")
        return SensorResult(run_requests=runs, cursor=json.dumps(cursor, sort_keys=True))

    return pending_webhooks


pending_webhooks = pending_webhooks_sensor(get_settings())


def due_deletions_sensor(settings: Settings) -> SensorDefinition:
    """As often as pending_webhooks: the API's webhook worker also erases on each pass."""

    @sensor(
        name="due_deletions",
        job=tenant_purge,
        minimum_interval_seconds=settings.webhook_apply_interval_seconds or 60,
        default_status=DefaultSensorStatus.RUNNING,
        description="Erases tenants whose privacy deletion is due (shop/redact, or the grace "
        "period after app/uninstalled): a run of tenant_purge when one comes due.",
    )
    def due_deletions(context: SensorEvaluationContext) -> SensorResult | SkipReason:
        """Cursor: per tenant still due, when its purge was requested. A tenant still due
        WEBHOOKS_RETRY_AFTER_SECONDS later (its run failed) is requested again."""
        seen: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
        with psycopg.connect(resolve_database_url()) as conn:
            due = [str(tenant) for tenant, _ in webhook_privacy.due_deletions(conn)]
        now = int(time.time())
        new = [t for t in due if now - seen.get(t, 0) >= WEBHOOKS_RETRY_AFTER_SECONDS]
        cursor = json.dumps({t: now if t in new else seen[t] for t in due}, sort_keys=True)
        if not new:
            context.update_cursor(cursor)
            return SkipReason("no tenant deletion due")
        return SensorResult(
            run_requests=[RunRequest(run_key=f"purge:{now}", tags={"xeno/tenants": ",".join(new)})],
            cursor=cursor,
        )

    return due_deletions


due_deletions = due_deletions_sensor(get_settings())

SENSORS: tuple[SensorDefinition, ...] = (
    tenant_partitions,
    api_sync_requests,
    pending_webhooks,
    due_deletions,
)
