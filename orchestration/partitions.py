"""Tenants as Dagster partitions: one dynamic partition per tenant, keyed by tenant id.

Dynamic, because tenants come and go at run time (the tenants sensor keeps the set equal
to `app.tenants`); one set shared by every asset, so a tenant's raw tables and its mart
slice are the same partition.

A run covers one tenant (`dagster/partition`) or a *batch*: a contiguous range of the
set's order (`dagster/asset_partition_range_start|end`). Batches exist for throughput —
one run process and one dbt build serve ORCHESTRATION_BATCH_SIZE tenants — and the
assets read `context.partition_keys` either way.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Sequence

from dagster import BackfillPolicy, DynamicPartitionsDefinition
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from core.settings import get_settings

TENANTS = DynamicPartitionsDefinition(name="tenants")

# A backfill launched in the UI over many tenants runs in batches like the schedule's.
BACKFILL_POLICY = BackfillPolicy.multi_run(get_settings().orchestration_batch_size)


def tenant_id(partition_key: str) -> uuid.UUID:
    return uuid.UUID(partition_key)


def batches(order: Sequence[str], wanted: Collection[str], size: int) -> Iterator[list[str]]:
    """The `wanted` keys in runs of at most `size`, each contiguous in `order`.

    A range run covers every partition between its ends, so a batch never spans a key
    that is not wanted: a gap in `order` starts a new batch.
    """
    batch: list[str] = []
    for key in order:
        if key not in wanted or len(batch) == size:
            if batch:
                yield batch
            batch = []
        if key in wanted:
            batch.append(key)
    if batch:
        yield batch


def range_tags(batch: Sequence[str]) -> dict[str, str]:
    """The run tags of a range run over `batch` (contiguous in the partitions' order)."""
    return {ASSET_PARTITION_RANGE_START_TAG: batch[0], ASSET_PARTITION_RANGE_END_TAG: batch[-1]}
