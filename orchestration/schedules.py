"""The daily cycle: every tenant synced and transformed, one run per tenant partition.

One run per tenant (not one run for all) keeps tenants independent: a failing store
fails only its own run, and the run queue's limits spread the runs over the warehouse.
"""

from __future__ import annotations

from collections.abc import Iterator

from dagster import RunRequest, ScheduleDefinition, ScheduleEvaluationContext, schedule

from core.settings import Settings
from orchestration.jobs import TENANT_SYNC_JOB, SyncRequest, sync_run_request
from orchestration.partitions import TENANTS


def daily_sync_schedule(settings: Settings) -> ScheduleDefinition:
    """SYNC_SCHEDULE_CRON in SYNC_SCHEDULE_TIMEZONE (default 02:00 UTC)."""

    @schedule(
        name="daily_sync",
        job=TENANT_SYNC_JOB,
        cron_schedule=settings.sync_schedule_cron,
        execution_timezone=settings.sync_schedule_timezone,
        description="Sync and transform every tenant, one run per tenant.",
    )
    def daily_sync(context: ScheduleEvaluationContext) -> Iterator[RunRequest]:
        tick = context.scheduled_execution_time.isoformat()
        for tenant in context.instance.get_dynamic_partitions(TENANTS.name):
            yield sync_run_request(
                tenant, SyncRequest(trigger="schedule"), run_key=f"daily:{tick}:{tenant}"
            )

    return daily_sync
