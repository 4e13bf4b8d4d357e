"""The daily cycle: every tenant synced and transformed, in batches of tenant partitions.

One run per tenant cost a run process and a dbt build per tenant (~30 s each: 8 hours for
1,000 tenants); a run per batch of ORCHESTRATION_BATCH_SIZE contiguous partitions pays
them once per batch. Inside a run a failing tenant is reported and never stops the
others (assets/ingestion.py, assets/transforms.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from dagster import RunRequest, ScheduleDefinition, ScheduleEvaluationContext, schedule

from core.settings import Settings
from orchestration.jobs import TENANT_SYNC_JOB, SyncConfig, sync_run_request
from orchestration.partitions import TENANTS_NAME, batches


def daily_sync_schedule(settings: Settings) -> ScheduleDefinition:
    """SYNC_SCHEDULE_CRON in SYNC_SCHEDULE_TIMEZONE (default 02:00 UTC)."""
    size = settings.orchestration.batch_size

    @schedule(
        name="daily_sync",
        job=TENANT_SYNC_JOB,
        cron_schedule=settings.orchestration.schedule_cron,
        execution_timezone=settings.orchestration.schedule_timezone,
        description="Sync and transform every tenant, ORCHESTRATION_BATCH_SIZE tenants per run.",
    )
    def daily_sync(context: ScheduleEvaluationContext) -> Iterator[RunRequest]:
        tick = context.scheduled_execution_time.isoformat()
        tenants = context.instance.get_dynamic_partitions(TENANTS_NAME)
        for batch in batches(tenants, set(tenants), size):
            yield sync_run_request(
                batch, SyncConfig(trigger="schedule"), run_key=f"daily:{tick}:{batch[0]}"
            )

    return daily_sync
