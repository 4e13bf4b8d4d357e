"""The pending-webhooks sensor and its job: one run per tenant with events due, nothing
on a second tick, a new run for new events, and no dbt build when nothing changed."""

from __future__ import annotations

import json
import uuid

import pytest
from dagster import SensorResult, build_sensor_context

from orchestration.definitions import defs
from orchestration.jobs import TENANT_WEBHOOKS_JOB, WEBHOOKS_KEY
from orchestration.sensors import pending_webhooks
from tests.orchestration.conftest import add_partition

REPOSITORY = defs.get_repository_def()


def store_event(conn, tenant: str, topic: str = "orders/updated") -> int:
    """A verified delivery as the receiver stores it (status pending)."""
    row = conn.execute(
        "insert into app.webhook_events (tenant_id, webhook_id, topic, headers, payload) "
        "values (%s, %s, %s, '{}', %s) returning id",
        (tenant, str(uuid.uuid4()), topic, json.dumps({"id": 1})),
    ).fetchone()
    return row[0]


def evaluate(instance, cursor):
    context = build_sensor_context(instance=instance, cursor=cursor, repository_def=REPOSITORY)
    result = pending_webhooks(context)
    return result, result.cursor if isinstance(result, SensorResult) else context.cursor


@pytest.fixture
def tenant_ids(make_tenant, instance) -> list[str]:
    return [add_partition(instance, make_tenant(orders=0)["tenant"].id) for _ in range(2)]


def test_one_run_per_tenant_with_pending_webhooks(instance, tenant_ids, make_tenant, conn):
    pending, quiet = tenant_ids
    store_event(conn, pending)
    store_event(conn, str(make_tenant(orders=0)["tenant"].id))  # not a partition: waits

    result, cursor = evaluate(instance, None)
    assert isinstance(result, SensorResult)
    (request,) = result.run_requests
    assert request.partition_key == pending and request.job_name == TENANT_WEBHOOKS_JOB.name
    assert quiet not in cursor

    again, cursor = evaluate(instance, cursor)
    assert not isinstance(again, SensorResult)  # a SkipReason: nothing new

    store_event(conn, pending)
    later, cursor = evaluate(instance, cursor)
    (second,) = later.run_requests
    assert second.partition_key == pending and second.run_key != request.run_key
    assert not isinstance(evaluate(instance, cursor)[0], SensorResult)


def test_interval_follows_settings():
    assert pending_webhooks.minimum_interval_seconds == 60
    assert REPOSITORY.get_sensor_def("pending_webhooks").job_name == TENANT_WEBHOOKS_JOB.name


def test_job_applies_and_skips_dbt_when_nothing_changed(instance, tenant_ids, conn):
    tenant = tenant_ids[0]
    event = store_event(conn, tenant, topic="unknown/topic")
    job = REPOSITORY.get_job(TENANT_WEBHOOKS_JOB.name)
    result = job.execute_in_process(instance=instance, partition_key=tenant)
    assert result.success
    (status,) = conn.execute(
        "select status from app.webhook_events where id = %s", (event,)
    ).fetchone()
    assert status == "unhandled"
    # nothing reached a raw table: no materialisation, the dbt step skipped
    assert not result.asset_materializations_for_node("webhooks")
    assert "marts" not in {e.step_key for e in result.get_step_success_events()}
    assert instance.get_latest_materialization_event(WEBHOOKS_KEY) is None
