"""The job Dagster runs (sync + transform of tenants), its typed run config and requests.

Dagster runs the daily cycle and operators' runs; the live loop (users' sync requests,
new tenants' first syncs, webhooks, erasure) runs in `xeno worker`. Both call the same
functions (orchestration/work.py).

A run's reason is its run config, `SyncConfig`, on both steps: the schedule passes
`trigger="schedule"`; a run launched by hand (UI, backfill, `dagster job launch`) gets
the defaults, trigger `operator` and no full refresh, or whatever the launchpad sets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from dagster import (
    AssetSelection,
    Backoff,
    Config,
    Jitter,
    RetryPolicy,
    RunConfig,
    RunRequest,
    define_asset_job,
    in_process_executor,
)
from pydantic import Field

from orchestration.partitions import range_tags

# The op names of the two asset groups (assets/ingestion.py, assets/transforms.py).
SYNC_OP = "shopify_raw"
BUILD_OP = "marts"


class SyncConfig(Config):
    """Why a run syncs and builds its tenants; recorded on each tenant's `app.sync_runs` row."""

    trigger: Literal["schedule", "operator"] = Field(
        default="operator",
        description="Recorded as the sync's trigger: `schedule` (daily_sync) or `operator`.",
    )
    full_refresh: bool = Field(
        default=False,
        description="Reload each store from scratch and rebuild its mart slices whole.",
    )


def sync_run_config(config: SyncConfig) -> RunConfig:
    """The run config of a TENANT_SYNC_JOB run: the same SyncConfig on both steps."""
    return RunConfig(ops={SYNC_OP: config, BUILD_OP: config})


# Transient failures (the store or warehouse briefly away, another sync of the tenant
# still holding its lock) heal by waiting: 30 s, 60 s, 120 s, jittered.
RETRY_POLICY = RetryPolicy(
    max_retries=3, delay=30, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)

TENANT_SYNC_JOB = define_asset_job(
    "tenant_sync",
    # Partitioned by TENANTS: inferred from the assets.
    selection=AssetSelection.all(),
    # Both steps in the run's own process: a step subprocess would import dlt, dbt and the
    # definitions again (seconds per tenant) for no isolation the run process lacks.
    executor_def=in_process_executor,
    op_retry_policy=RETRY_POLICY,
    description="Sync the run's tenants (one, or a batch) into their raw schemas, then "
    "build their mart slices in one dbt invocation.",
)


def sync_run_request(batch: Sequence[str], config: SyncConfig, *, run_key: str) -> RunRequest:
    """A run of TENANT_SYNC_JOB: one tenant partition, or a range of contiguous ones.

    A single tenant stays a partition run, so the per-store run limit (a queue limit on
    `dagster/partition`) applies to it; a batch is a range run.
    """
    run_config = sync_run_config(config)
    if len(batch) == 1:
        return RunRequest(
            run_key=run_key,
            partition_key=batch[0],
            job_name=TENANT_SYNC_JOB.name,
            run_config=run_config,
        )
    return RunRequest(
        run_key=run_key,
        job_name=TENANT_SYNC_JOB.name,
        run_config=run_config,
        tags=range_tags(batch),
    )
