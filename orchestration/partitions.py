"""Tenants as Dagster partitions: one dynamic partition per tenant, keyed by tenant id.

Dynamic, because tenants come and go at run time (the tenants sensor keeps the set equal
to `app.tenants`); one set shared by every asset, so a tenant's raw tables and its mart
slice are the same partition and a run of one tenant never touches another's.
"""

from __future__ import annotations

import uuid

from dagster import DynamicPartitionsDefinition

TENANTS = DynamicPartitionsDefinition(name="tenants")


def tenant_id(partition_key: str) -> uuid.UUID:
    return uuid.UUID(partition_key)
