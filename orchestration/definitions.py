"""The Dagster code location: `dagster ... -m orchestration.definitions` loads `defs`."""

from __future__ import annotations

from dagster import Definitions

from core.settings import get_settings
from orchestration.assets.ingestion import shopify_raw
from orchestration.assets.transforms import marts
from orchestration.assets.webhooks import webhooks
from orchestration.jobs import TENANT_SYNC_JOB, TENANT_WEBHOOKS_JOB
from orchestration.purge import tenant_purge
from orchestration.resources import Warehouse, dbt_resource
from orchestration.schedules import daily_sync_schedule
from orchestration.sensors import SENSORS


def build_definitions() -> Definitions:
    return Definitions(
        assets=[shopify_raw, webhooks, marts],
        jobs=[TENANT_SYNC_JOB, TENANT_WEBHOOKS_JOB, tenant_purge],
        schedules=[daily_sync_schedule(get_settings())],
        sensors=list(SENSORS),
        resources={"dbt": dbt_resource(), "warehouse": Warehouse()},
    )


defs = build_definitions()
