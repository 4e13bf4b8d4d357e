"""Throttling, server errors and dropped connections slow a sync down but never corrupt it."""

from __future__ import annotations

import dataclasses
import time

import pytest

from core.settings import get_settings
from ingestion.progress import ProgressEvent
from ingestion.sync import SyncFailed, run_sync
from tests.ingestion.conftest import raw_count


def _assert_exact(sim, conn, shop, schema):
    for table, path, params in (
        ("orders", "orders/count.json", {"status": "any"}),
        ("customers", "customers/count.json", {}),
        ("products", "products/count.json", {}),
        ("abandoned_checkouts", "checkouts/count.json", {}),
    ):
        expected = sim.count(shop, path, **params)
        assert raw_count(conn, schema, table) == expected, table
        assert raw_count(conn, schema, table, distinct="id") == expected, table


def test_errors_and_dropped_connections_end_with_exact_data(sim, make_tenant, conn):
    shop = sim.shop(orders=1500, rate_limit=False)
    sim.configure(shop["domain"], "faults", error_rate=0.05, drop_rate=0.05, seed=7)
    tenant = make_tenant(shop)
    run = run_sync(tenant.id)
    sim.configure(shop["domain"], "faults", error_rate=0.0, drop_rate=0.0)
    assert run.status == "succeeded", run.error
    _assert_exact(sim, conn, shop, tenant.raw_schema)


def test_a_429_storm_is_waited_out(sim, make_tenant, conn):
    # The store leaks 5 calls/s but we are told 100/s: every burst overruns the bucket.
    shop = sim.shop(orders=1500, bucket=4, leak=5.0)
    tenant = make_tenant(shop)
    events: list[ProgressEvent] = []
    settings = dataclasses.replace(get_settings(), shopify_leak_rate=100)
    run = run_sync(tenant.id, progress=events.append, settings=settings)
    assert run.status == "succeeded", run.error
    assert events[-1].throttled > 0
    _assert_exact(sim, conn, shop, tenant.raw_schema)


def test_persistent_errors_fail_with_tenant_resource_and_path(sim, make_tenant, conn):
    shop = sim.shop(orders=10, rate_limit=False)
    sim.configure(shop["domain"], "faults", error_rate=1.0)
    tenant = make_tenant(shop)
    with pytest.raises(SyncFailed) as info:
        run_sync(tenant.id)
    message = str(info.value)
    assert str(tenant.id) in message and shop["domain"] in message
    assert "failed: customers: GET /" in message
    assert "/admin/api/2026-10/customers/count.json: HTTP 50" in message
    assert shop["token"] not in message and "?" not in message
    assert info.value.run.status == "failed" and info.value.run.error == message


def test_a_bad_token_fails_fast_and_writes_nothing(sim, make_tenant, conn):
    shop = sim.shop(orders=10, rate_limit=False)
    tenant = make_tenant(shop, token="shpat_wrong")
    started = time.monotonic()
    with pytest.raises(SyncFailed, match="rejected the access token"):
        run_sync(tenant.id)
    assert time.monotonic() - started < 5
    assert (
        conn.execute(
            "select 1 from information_schema.schemata where schema_name = %s", (tenant.raw_schema,)
        ).fetchone()
        is None
    )
