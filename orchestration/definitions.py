"""The Dagster code location: `dagster dev` in the repo root (pyproject's [tool.dagster])
or `dagster ... -m orchestration.definitions` loads `defs`.

Importing this module does no work: `defs` is a `@definitions` function, which Dagster
calls when it loads the code location. It reads the settings, builds the assets (dbt's
manifest, parsed first if missing; the dlt source's shape) through cached factories and
configures the resources.
"""

from __future__ import annotations

from dagster import Definitions, definitions

from core.settings import get_settings
from orchestration.assets.ingestion import shopify_raw_assets
from orchestration.assets.transforms import marts_assets
from orchestration.jobs import TENANT_SYNC_JOB
from orchestration.resources import dbt_resource, warehouse
from orchestration.schedules import daily_sync_schedule
from orchestration.sensors import tenant_partitions


@definitions
def defs() -> Definitions:
    settings = get_settings()
    size = settings.orchestration.batch_size
    return Definitions(
        assets=[shopify_raw_assets(settings), marts_assets(size)],
        jobs=[TENANT_SYNC_JOB],
        schedules=[daily_sync_schedule(settings)],
        sensors=[tenant_partitions],
        resources={"dbt": dbt_resource(), "warehouse": warehouse(settings)},
    )
