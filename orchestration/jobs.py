"""The jobs (sync + transform of tenants; a tenant's webhooks + transform) and their requests.

Every run carries its reason in tags, which the assets read: `xeno/trigger` (the
`app.sync_runs.trigger` to record), `xeno/sync_id` (the queued API request this run
executes) and `xeno/full_refresh`. Runs started by hand in Dagster (UI, backfills,
`dagster job launch`) carry none of them and are recorded as trigger `operator`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dagster import (
    AssetKey,
    AssetSelection,
    Backoff,
    Jitter,
    RetryPolicy,
    RunRequest,
    define_asset_job,
    in_process_executor,
)

from orchestration.partitions import TENANTS, range_tags

TRIGGER_TAG = "xeno/trigger"
SYNC_ID_TAG = "xeno/sync_id"
FULL_REFRESH_TAG = "xeno/full_refresh"
# The trigger of a run without `xeno/trigger`: launched by hand in Dagster.
OPERATOR = "operator"
# The asset that applies a tenant's stored webhooks to its raw tables (assets/webhooks.py);
# the dbt models reading raw tables depend on it, so its job builds them after it.
WEBHOOKS_KEY = AssetKey(["shopify", "webhooks"])

# Transient failures (the store or warehouse briefly away, another sync of the tenant
# still holding its lock) heal by waiting: 30 s, 60 s, 120 s, jittered.
RETRY_POLICY = RetryPolicy(
    max_retries=3, delay=30, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)

TENANT_SYNC_JOB = define_asset_job(
    "tenant_sync",
    selection=AssetSelection.all() - AssetSelection.assets(WEBHOOKS_KEY),
    partitions_def=TENANTS,
    # Both steps in the run's own process: a step subprocess would import dlt, dbt and the
    # definitions again (seconds per tenant) for no isolation the run process lacks.
    executor_def=in_process_executor,
    op_retry_policy=RETRY_POLICY,
    description="Sync the run's tenants (one, or a batch) into their raw schemas, then "
    "build their mart slices in one dbt invocation.",
)

TENANT_WEBHOOKS_JOB = define_asset_job(
    "tenant_webhooks",
    # The webhooks step and the dbt models downstream of it; never the dlt sync.
    selection=AssetSelection.assets(WEBHOOKS_KEY).downstream(),
    partitions_def=TENANTS,
    executor_def=in_process_executor,
    op_retry_policy=RETRY_POLICY,
    description="Apply one tenant's pending webhooks to its raw tables, then rebuild its "
    "mart slice (skipped when nothing changed).",
)


@dataclass(frozen=True)
class SyncRequest:
    """Why a run syncs its tenant, as carried in the run's tags."""

    trigger: str = OPERATOR
    sync_id: str | None = None
    full_refresh: bool = False

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> SyncRequest:
        return cls(
            trigger=tags.get(TRIGGER_TAG, OPERATOR),
            sync_id=tags.get(SYNC_ID_TAG),
            full_refresh=tags.get(FULL_REFRESH_TAG) == "true",
        )

    def tags(self) -> dict[str, str]:
        tags = {TRIGGER_TAG: self.trigger, FULL_REFRESH_TAG: str(self.full_refresh).lower()}
        if self.sync_id is not None:
            tags[SYNC_ID_TAG] = self.sync_id
        return tags


def sync_run_request(batch: Sequence[str], request: SyncRequest, *, run_key: str) -> RunRequest:
    """A run of TENANT_SYNC_JOB: one tenant partition, or a range of contiguous ones.

    A single tenant stays a partition run, so the per-store run limit (a queue limit on
    `dagster/partition`) applies to it; a batch is a range run.
    """
    if len(batch) == 1:
        return RunRequest(
            run_key=run_key,
            partition_key=batch[0],
            job_name=TENANT_SYNC_JOB.name,
            tags=request.tags(),
        )
    return RunRequest(
        run_key=run_key, job_name=TENANT_SYNC_JOB.name, tags={**request.tags(), **range_tags(batch)}
    )
