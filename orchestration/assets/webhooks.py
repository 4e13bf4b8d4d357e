"""The tenant's stored webhooks applied to its raw tables, as an asset of its partition.

The body is `ingestion.webhooks.apply_all_pending`, the same loop the API's webhook
worker runs. The dbt models that read raw tables depend on this asset, so the
`tenant_webhooks` job builds them after it; when nothing changed the asset yields no
output and Dagster skips the dbt step (no build for events that were all stale).
"""

# No `from __future__ import annotations`: Dagster checks the `context` annotation at runtime.
from collections.abc import Iterator

from dagster import AssetExecutionContext, MetadataValue, Output, asset

from ingestion.webhooks import apply_all_pending
from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.jobs import WEBHOOKS_KEY
from orchestration.partitions import TENANTS, tenant_id


class WebhooksBusy(Exception):
    """A sync holds the tenant's lock: the job's retry policy waits and tries again."""


@asset(
    key=WEBHOOKS_KEY,
    partitions_def=TENANTS,
    group_name="ingestion",
    pool=WAREHOUSE_POOL,
    output_required=False,
    description="Stored webhooks (app.webhook_events) of the tenant applied to its raw "
    "tables: upserts, delete flags, privacy requests.",
)
def webhooks(context: AssetExecutionContext) -> Iterator[Output[None]]:
    """Apply every due batch; materialised only when a raw table changed."""
    applied = apply_all_pending(tenant_id(context.partition_key))
    context.log.info("webhooks of %s: %s", context.partition_key, applied)
    if applied.busy and not applied.changed:
        raise WebhooksBusy(f"tenant {context.partition_key} is being synced")
    if not applied.ok:
        # The failed events carry their error and come due again with backoff; the
        # sensor requests a new run then. What did apply still gets its marts.
        context.log.warning("some webhooks of %s failed", context.partition_key)
    if applied.changed:
        yield Output(
            None,
            metadata={
                "events": MetadataValue.int(applied.events),
                "all_applied": MetadataValue.bool(applied.ok),
            },
        )
