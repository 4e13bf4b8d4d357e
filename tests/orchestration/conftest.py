"""Orchestration fixtures: the ingestion tests' simulator and environment, a Dagster
instance in a temp folder, and tenants registered for simulated shops."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from dagster import DagsterInstance

from core import tenants
from core.settings import get_settings
from orchestration.partitions import TENANTS, partition_key
from tests.ingestion.conftest import (  # noqa: F401 - fixtures shared with ingestion
    Simulator,
    ingestion_env,
    sim,
    simulator_url,
)


def temp_instance(folder: Path) -> DagsterInstance:
    """A real (SQLite-backed) instance, so dynamic partitions and cursors persist."""
    return DagsterInstance.local_temp(str(folder), overrides={"telemetry": {"enabled": False}})


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[DagsterInstance]:
    with temp_instance(tmp_path) as temp:
        yield temp


@pytest.fixture(scope="module")
def make_tenant(
    ingestion_env: dict,  # noqa: F811 - the imported fixture
    database_url: str,
    sim: Simulator,  # noqa: F811 - the imported fixture
) -> Callable[..., dict]:
    """Factory: a simulated shop (unique name) registered as a tenant; returns both."""

    def make(**spec) -> dict:
        shop = sim.shop(rate_limit=False, **spec)
        with psycopg.connect(database_url, autocommit=True) as conn:
            tenant = tenants.create(
                conn,
                name=shop["domain"],
                shop_domain=shop["domain"],
                access_token=shop["token"],
                settings=get_settings(),
            )
        return {"shop": shop, "tenant": tenant}

    return make


def add_partition(instance: DagsterInstance, tenant: tenants.Tenant) -> str:
    """The tenant's partition (`<shop>.<tenant id>`), as the tenants sensor adds it."""
    key = partition_key(tenant)
    instance.add_dynamic_partitions(TENANTS.name, [key])
    return key
