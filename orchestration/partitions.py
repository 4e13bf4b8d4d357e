"""Tenants as Dagster partitions: one dynamic partition per tenant, named for its shop.

Dynamic, because tenants come and go at run time (the `tenant_partitions` sensor keeps the
set equal to `app.tenants`); one set shared by every asset, so a tenant's raw tables and
its mart slice are the same partition.

A partition key is `<shop>.<tenant id>`: the store's handle (`acme-store` of
`acme-store.myshopify.com`, which never changes for a tenant) so a person reading the UI
knows the store, and the tenant id so the key is unique and `tenant_id()` reads it back.
Handles are `[a-z0-9][a-z0-9-]*`, so keys hold only letters, digits, `-` and one `.`:
none of the characters Dagster refuses in partition keys (`...`, control characters) or
uses in partition selections (`,`, `[`, `]`, `|`). `tenant_id()` also reads the bare
tenant-id keys of earlier versions, which the sensor replaces.

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

from core.tenants import Tenant

TENANTS_NAME = "tenants"
TENANTS = DynamicPartitionsDefinition(name=TENANTS_NAME)
SHOPIFY_SUFFIX = ".myshopify.com"


def partition_key(tenant: Tenant) -> str:
    """`<shop handle>.<tenant id>`, e.g. `acme-store.0b6c…`: readable, unique, parseable."""
    shop = tenant.shop_domain.removesuffix(SHOPIFY_SUFFIX)
    return f"{shop}.{tenant.id}"


def tenant_id(key: str) -> uuid.UUID:
    """The tenant id of a partition key (also of an old bare-id key)."""
    return uuid.UUID(key.rpartition(".")[2])


def backfill_policy(batch_size: int) -> BackfillPolicy:
    """A backfill launched in the UI over many tenants runs in batches like the schedule's."""
    return BackfillPolicy.multi_run(batch_size)


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
