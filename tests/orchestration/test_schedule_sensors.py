"""The schedule and the sensors, evaluated with Dagster's context builders against a real
instance: exactly the expected run requests (batches covering each tenant once) and
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

from core.settings import get_settings, load_settings
from ingestion import runs
from orchestration.definitions import defs
from orchestration.jobs import (
    FULL_REFRESH_TAG,
    SYNC_ID_TAG,
    TENANT_SYNC_JOB,
    TRIGGER_TAG,
)
from orchestration.partitions import TENANTS, batches
from orchestration.purge import tenant_purge
from orchestration.schedules import daily_sync_schedule
from orchestration.sensors import api_sync_requests, due_deletions, tenant_partitions
from tests.orchestration.conftest import add_partition

REPOSITORY = defs.get_repository_def()


@pytest.fixture
def tenant_ids(make_tenant) -> list[str]:
    return [str(make_tenant(orders=0)["tenant"].id) for _ in range(2)]


def registry(database_url: str) -> set[str]:
    with psycopg.connect(database_url) as conn:
        return {str(t) for (t,) in conn.execute("select id from app.tenants").fetchall()}


def evaluate(sensor, instance, cursor):
    context = build_sensor_context(instance=instance, cursor=cursor, repository_def=REPOSITORY)
    result = sensor(context)
    # The daemon stores a SensorResult's cursor; a skipped tick sets it on the context.
    return result, result.cursor if isinstance(result, SensorResult) else context.cursor


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
def test_schedule_requests_batches_covering_each_tenant_once(instance, make_tenant, tmp_path, size):
    keys = [add_partition(instance, make_tenant(orders=0)["tenant"].id) for _ in range(5)]
    settings = load_settings(
        {"ORCHESTRATION_BATCH_SIZE": str(size), "DATA_DIR": str(tmp_path)},
        env_file=tmp_path / "none",
    )
    tick = datetime(2026, 1, 2, 2, 0, tzinfo=UTC)
    context = build_schedule_context(
        instance=instance, scheduled_execution_time=tick, repository_def=REPOSITORY
    )
    requests = list(daily_sync_schedule(settings).evaluate_tick(context).run_requests or [])
    assert len(requests) == math.ceil(len(keys) / size)
    order = instance.get_dynamic_partitions(TENANTS.name)
    assert sorted(k for r in requests for k in covered(r, order)) == sorted(keys)
    assert all(len(covered(r, order)) <= size for r in requests)
    assert all(r.tags[TRIGGER_TAG] == "schedule" for r in requests)
    assert all(r.job_name == TENANT_SYNC_JOB.name for r in requests)
    assert len({r.run_key for r in requests}) == len(requests)


def test_tenant_sensor_adds_backfills_and_removes(instance, make_tenant, database_url, conn):
    first, cursor = evaluate(tenant_partitions, instance, None)
    assert isinstance(first, SensorResult)
    everyone = registry(database_url)
    (added,) = first.dynamic_partitions_requests
    assert isinstance(added, AddDynamicPartitionsRequest)
    assert set(added.partition_keys) == everyone
    instance.add_dynamic_partitions(TENANTS.name, list(added.partition_keys))
    # first backfills in batches of ORCHESTRATION_BATCH_SIZE, each tenant exactly once
    order = instance.get_dynamic_partitions(TENANTS.name)
    backfilled = [k for r in first.run_requests for k in covered(r, order)]
    assert sorted(backfilled) == sorted(everyone)
    size = get_settings().orchestration_batch_size
    assert len(first.run_requests) == math.ceil(len(everyone) / size)
    assert {r.tags[TRIGGER_TAG] for r in first.run_requests} == {"sensor"}

    again, cursor = evaluate(tenant_partitions, instance, cursor)
    assert not isinstance(again, SensorResult)  # a SkipReason: nothing new

    new = str(make_tenant(orders=0)["tenant"].id)
    third, cursor = evaluate(tenant_partitions, instance, cursor)
    assert [r.partition_keys for r in third.dynamic_partitions_requests] == [[new]]
    assert [(r.partition_key, r.run_key) for r in third.run_requests] == [(new, f"backfill:{new}")]

    conn.execute("delete from app.tenants where id = %s", (new,))
    fourth, cursor = evaluate(tenant_partitions, instance, cursor)
    (removed,) = fourth.dynamic_partitions_requests
    assert isinstance(removed, DeleteDynamicPartitionsRequest)
    assert list(removed.partition_keys) == [new] and not fourth.run_requests

    assert not isinstance(evaluate(tenant_partitions, instance, cursor)[0], SensorResult)


def test_first_evaluation_takes_existing_partitions_as_known(instance, database_url):
    instance.add_dynamic_partitions(TENANTS.name, sorted(registry(database_url)))
    result, _ = evaluate(tenant_partitions, instance, None)
    assert not isinstance(result, SensorResult)


def test_api_sync_request_becomes_one_run(instance, tenant_ids, conn):
    waiting, ready = tenant_ids
    add_partition(instance, ready)
    queued = runs.queue(conn, ready, trigger="api", full_refresh=True)
    runs.queue(conn, waiting, trigger="api")  # not a partition yet: waits for it

    result, cursor = evaluate(api_sync_requests, instance, None)
    (request,) = result.run_requests
    assert request.run_key == str(queued.id) and request.partition_key == ready
    assert request.tags[SYNC_ID_TAG] == str(queued.id)
    assert request.tags[TRIGGER_TAG] == "api" and request.tags[FULL_REFRESH_TAG] == "true"

    again, cursor = evaluate(api_sync_requests, instance, cursor)
    assert not isinstance(again, SensorResult)

    add_partition(instance, waiting)
    later, cursor = evaluate(api_sync_requests, instance, cursor)
    assert [r.partition_key for r in later.run_requests] == [waiting]
    assert not isinstance(evaluate(api_sync_requests, instance, cursor)[0], SensorResult)


def test_due_deletion_becomes_one_purge_run(instance, make_tenant, conn):
    doomed = make_tenant(orders=0)["tenant"].id
    conn.execute(
        "insert into app.tenant_deletions (tenant_id, reason, due_at) "
        "values (%s, 'shop/redact', now() - interval '1 minute')",
        (doomed,),
    )
    result, cursor = evaluate(due_deletions, instance, None)
    (request,) = result.run_requests
    assert request.tags["xeno/tenants"] == str(doomed)
    assert not isinstance(evaluate(due_deletions, instance, cursor)[0], SensorResult)

    purge = REPOSITORY.get_job(tenant_purge.name)
    assert purge.execute_in_process(instance=instance, tags=request.tags).success
    assert str(doomed) not in registry(conn.info.dsn)
    assert not isinstance(evaluate(due_deletions, instance, cursor)[0], SensorResult)
