"""The one sensor: the tenant partition set follows the tenant registry.

Dagster's other live work moved to `xeno worker` (orchestration/worker.py): users' sync
requests, a new tenant's one first sync, webhooks and tenant erasure. So this sensor
requests no runs; it keeps one partition per tenant of `app.tenants` (key
`<shop>.<tenant id>`, orchestration/partitions.py) and removes the partitions of erased
tenants and keys of another form (the bare tenant ids of earlier versions).
"""

from __future__ import annotations

from dagster import (
    AddDynamicPartitionsRequest,
    DefaultSensorStatus,
    DeleteDynamicPartitionsRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from core import tenants
from orchestration.partitions import TENANTS, TENANTS_NAME, partition_key
from orchestration.resources import Warehouse


@sensor(
    name="tenant_partitions",
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Keeps one partition per tenant of app.tenants (`<shop>.<tenant id>`); "
    "an erased tenant's partition is removed. Requests no runs: the worker syncs new "
    "tenants, the daily schedule everyone.",
)
def tenant_partitions(
    context: SensorEvaluationContext, warehouse: Warehouse
) -> SensorResult | SkipReason:
    """The registry against the partitions that exist: no cursor, one query each."""
    with warehouse.connect() as conn:
        wanted = [partition_key(t) for t in tenants.list_all(conn)]  # oldest first
    existing = context.instance.get_dynamic_partitions(TENANTS_NAME)
    added = [key for key in wanted if key not in set(existing)]
    removed = sorted(set(existing) - set(wanted))
    if not added and not removed:
        return SkipReason("tenants unchanged")
    requests: list[AddDynamicPartitionsRequest | DeleteDynamicPartitionsRequest] = []
    if removed:
        requests.append(TENANTS.build_delete_request(removed))
    if added:  # appended in the registry's order, so new tenants stay contiguous
        requests.append(TENANTS.build_add_request(added))
    return SensorResult(dynamic_partitions_requests=requests)
