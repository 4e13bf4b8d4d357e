"""Erasing tenants whose deletion is due, so it happens even when only Dagster runs.

A privacy `shop/redact`, or the grace period after `app/uninstalled`, schedules a
tenant's deletion (`app.tenant_deletions`); `ingestion.webhook_privacy.purge_due` erases
the due ones. The API's webhook worker calls it on each pass; with that worker off
(WEBHOOK_APPLY_INTERVAL_SECONDS=0, Dagster applying webhooks) the `due_deletions` sensor
launches this job instead. The tenants sensor then removes the erased tenants' partitions.
"""

# No `from __future__ import annotations`: Dagster checks the `context` annotation at runtime.
from dagster import OpExecutionContext, in_process_executor, job, op

from ingestion.webhook_privacy import purge_due
from orchestration.jobs import RETRY_POLICY


@op(retry_policy=RETRY_POLICY)
def purge_due_tenants(context: OpExecutionContext) -> None:
    """Erase every tenant whose deletion is due: raw schema, mart rows, registry row."""
    erased = purge_due()
    context.log.info("erased %d tenant(s): %s", len(erased), ", ".join(map(str, erased)) or "-")


@job(
    executor_def=in_process_executor,
    description="Erase the tenants whose scheduled deletion (privacy request, uninstall "
    "grace period) is due, as the API's webhook worker does.",
)
def tenant_purge() -> None:
    purge_due_tenants()
