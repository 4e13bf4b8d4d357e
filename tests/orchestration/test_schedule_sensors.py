"""The schedule and the tenants sensor, evaluated with Dagster's context builders against a
real instance: exactly the expected run requests (batches covering each tenant once) and
partition changes, then nothing."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import psycopg
import pytest
from dagster import (
    AddDynamicPartitionsRequest,
    DeleteDynamicPartitionsRequest,
    RunRequest,
    SensorResult,
    build_schedule_context,
    build_sensor_context,
)
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from core import tenants
from core.settings import get_settings, load_settings
from orchestration.definitions import defs
from orchestration.jobs import TENANT_SYNC_JOB
from orchestration.partitions import TENANTS, batches, partition_key, tenant_id
from orchestration.resources import warehouse
from orchestration.schedules import daily_sync_schedule
from orchestration.sensors import tenant_partitions
from tests.orchestration.conftest import add_partition


@pytest.fixture(scope="module")
def repository():
    return defs().get_repository_def()


def registry(database_url: str) -> list[str]:
    """The partition keys the registry calls for, oldest tenant first."""
    with psycopg.connect(database_url) as conn:
        return [partition_key(t) for t in tenants.list_all(conn)]


def evaluate(instance, repository):
    """One tick of the tenants sensor, its partition requests applied as the daemon does."""
    context = build_sensor_context(
        instance=instance,
        repository_def=repository,
        resources={"warehouse": warehouse(get_settings())},
    )
    result = tenant_partitions(context)
    if isinstance(result, SensorResult):
        for request in result.dynamic_partitions_requests:
            if isinstance(request, AddDynamicPartitionsRequest):
                instance.add_dynamic_partitions(TENANTS.name, list(request.partition_keys))
            else:
                for key in request.partition_keys:
                    instance.delete_dynamic_partition(TENANTS.name, key)
    return result


def covered(request: RunRequest, order: list[str]) -> list[str]:
    """The tenant partitions a run request covers: its partition, or its range in `order`."""
    if request.partition_key is not None:
        return [request.partition_key]
    start, end = (
        request.tags[ASSET_PARTITION_RANGE_START_TAG],
        request.tags[ASSET_PARTITION_RANGE_END_TAG],
    )
    return order[order.index(start) : order.index(end) + 1]


def test_batches_are_contiguous_and_bounded():
    order = list("abcdefgh")
    assert list(batches(order, set(order), 3)) == [["a", "b", "c"], ["d", "e", "f"], ["g", "h"]]
    # a gap in the order ends a batch: a range never covers an unwanted tenant
    assert list(batches(order, {"a", "b", "d", "e", "f", "h"}, 2)) == [
        ["a", "b"],
        ["d", "e"],
        ["f"],
        ["h"],
    ]


@pytest.mark.parametrize("size", [1, 2, 5])
def test_schedule_requests_batches_covering_each_tenant_once(
    instance, make_tenant, repository, tmp_path, size
):
    keys = [add_partition(instance, make_tenant(orders=0)["tenant"]) for _ in range(5)]
    settings = load_settings(
        {"ORCHESTRATION_BATCH_SIZE": str(size), "DATA_DIR": str(tmp_path)},
        env_file=tmp_path / "none",
    )
    tick = datetime(2026, 1, 2, 2, 0, tzinfo=UTC)
    context = build_schedule_context(
        instance=instance, scheduled_execution_time=tick, repository_def=repository
    )
    requests = list(daily_sync_schedule(settings).evaluate_tick(context).run_requests or [])
    assert len(requests) == math.ceil(len(keys) / size)
    order = instance.get_dynamic_partitions(TENANTS.name)
    assert sorted(k for r in requests for k in covered(r, order)) == sorted(keys)
    assert all(len(covered(r, order)) <= size for r in requests)
    # typed run config, the same on both steps: recorded as the daily cycle's syncs
    expected = {"config": {"trigger": "schedule", "full_refresh": False}}
    for request in requests:
        ops = request.run_config["ops"]
        assert ops == {"shopify_raw": expected, "marts": expected}
        assert not any(tag.startswith("xeno/") for tag in request.tags)
    assert all(r.job_name == TENANT_SYNC_JOB.name for r in requests)
    assert len({r.run_key for r in requests}) == len(requests)


def test_tenant_sensor_follows_the_registry_and_requests_no_runs(
    instance, make_tenant, repository, database_url, conn
):
    first = evaluate(instance, repository)
    assert isinstance(first, SensorResult) and not first.run_requests
    (added,) = first.dynamic_partitions_requests
    assert isinstance(added, AddDynamicPartitionsRequest)
    assert list(added.partition_keys) == registry(database_url)  # oldest first
    # a real instance takes the readable keys, and each names its tenant
    assert instance.get_dynamic_partitions(TENANTS.name) == registry(database_url)

    assert not isinstance(evaluate(instance, repository), SensorResult)  # nothing new

    made = make_tenant(orders=0)
    new = partition_key(made["tenant"])
    assert new.startswith(made["shop"]["domain"].removesuffix(".myshopify.com") + ".")
    third = evaluate(instance, repository)
    assert [r.partition_keys for r in third.dynamic_partitions_requests] == [[new]]
    assert not third.run_requests  # the worker gives a new tenant its one first sync
    assert instance.get_dynamic_partitions(TENANTS.name)[-1] == new  # appended

    conn.execute("delete from app.tenants where id = %s", (tenant_id(new),))
    fourth = evaluate(instance, repository)
    (removed,) = fourth.dynamic_partitions_requests
    assert isinstance(removed, DeleteDynamicPartitionsRequest)
    assert list(removed.partition_keys) == [new] and not fourth.run_requests

    assert not isinstance(evaluate(instance, repository), SensorResult)


def test_tenant_sensor_replaces_bare_tenant_id_keys(
    instance, make_tenant, repository, database_url
):
    tenant = make_tenant(orders=0)["tenant"]
    everyone = registry(database_url)
    old = str(tenant.id)  # an earlier version's key
    others = [k for k in everyone if k != partition_key(tenant)]
    instance.add_dynamic_partitions(TENANTS.name, others)
    instance.add_dynamic_partitions(TENANTS.name, [old])

    result = evaluate(instance, repository)
    removed, added = result.dynamic_partitions_requests
    assert isinstance(removed, DeleteDynamicPartitionsRequest)
    assert list(removed.partition_keys) == [old]
    assert list(added.partition_keys) == [partition_key(tenant)]
    assert sorted(instance.get_dynamic_partitions(TENANTS.name)) == sorted(everyone)
    assert not isinstance(evaluate(instance, repository), SensorResult)
