"""Server errors, dropped connections, THROTTLED answers and failing bulk operations slow
a sync down or end it with one clear line, but never corrupt it or pass for success."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from core.settings import get_settings
from ingestion.progress import ProgressEvent
from ingestion.queries import CUSTOMERS
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
    sim.configure(
        shop["domain"], "faults", error_rate=0.05, drop_rate=0.05, download_drop_rate=0.5, seed=7
    )
    tenant = make_tenant(shop)
    try:
        run = run_sync(tenant.id, get_settings())
    finally:
        sim.configure(
            shop["domain"], "faults", error_rate=0.0, drop_rate=0.0, download_drop_rate=0.0
        )
    assert run.status == "succeeded", run.error
    _assert_exact(sim, conn, shop, tenant.raw_schema)


def test_a_bucket_drained_behind_the_sync_is_waited_out(sim, make_tenant, conn):
    """Increments page while something else spends the same bucket for a few seconds (the
    same app elsewhere: Shopify's buckets are per app and store): THROTTLED answers are
    waited out and the data is whole."""
    shop = sim.shop(orders=200, customers=600, rate_limit=True)
    tenant = make_tenant(shop)
    assert run_sync(tenant.id, get_settings()).status == "succeeded"
    for rid in [c["id"] for c in sim.records(shop, "customers")][:400]:
        sim.update(shop["domain"], "customers", rid, {"note": "changed"})
    url = f"{sim.url}/{shop['domain']}/admin/api/2026-10/graphql.json"
    body = {"query": CUSTOMERS.page_query(), "variables": {"first": 50, "query": None}}

    def drain_for_a_while() -> None:
        deadline = time.monotonic() + 4
        with httpx.Client(headers={"X-Shopify-Access-Token": shop["token"]}) as http:
            while time.monotonic() < deadline:
                http.post(url, json=body)
                time.sleep(0.05)

    thread = threading.Thread(target=drain_for_a_while, daemon=True)
    events: list[ProgressEvent] = []
    thread.start()
    try:
        run = run_sync(tenant.id, get_settings(), progress=events.append)
    finally:
        thread.join()
    assert run.status == "succeeded", run.error
    assert events[-1].throttled > 0
    _assert_exact(sim, conn, shop, tenant.raw_schema)


def test_persistent_errors_fail_with_tenant_and_operation(sim, make_tenant, conn):
    shop = sim.shop(orders=10, rate_limit=False)
    sim.configure(shop["domain"], "faults", error_rate=1.0)
    tenant = make_tenant(shop)
    try:
        with pytest.raises(SyncFailed) as info:
            run_sync(tenant.id, get_settings())
    finally:
        sim.configure(shop["domain"], "faults", error_rate=0.0)
    message = str(info.value)
    assert str(tenant.id) in message and shop["domain"] in message
    assert f"Shop (POST /{shop['domain']}/admin/api/2026-10/graphql.json): HTTP 50" in message
    assert "\n" not in message and shop["token"] not in message and "?" not in message
    assert info.value.run.status == "failed" and info.value.run.error == message


def test_a_failed_bulk_operation_is_never_loaded_as_success(sim, make_tenant, conn):
    shop = sim.shop(orders=60, rate_limit=False)
    sim.configure(shop["domain"], "faults", bulk_fail_rate=1.0, bulk_fail_after=5)
    tenant = make_tenant(shop)
    try:
        with pytest.raises(SyncFailed) as info:
            run_sync(tenant.id, get_settings())
    finally:
        sim.configure(shop["domain"], "faults", bulk_fail_rate=0.0)
    message = str(info.value)
    assert "failed (INTERNAL_SERVER_ERROR)" in message
    assert "partial data exists and was not loaded" in message and "\n" not in message
    assert info.value.run.status == "failed"
    for table in ("orders", "customers", "products", "abandoned_checkouts"):
        assert raw_count(conn, tenant.raw_schema, table) == 0, table
    # The store recovers: the next sync starts new operations and loads everything.
    assert run_sync(tenant.id, get_settings()).status == "succeeded"
    _assert_exact(sim, conn, shop, tenant.raw_schema)


def test_a_bad_token_fails_fast_and_writes_nothing(sim, make_tenant, conn):
    shop = sim.shop(orders=10, rate_limit=False)
    tenant = make_tenant(shop, token="shpat_wrong")
    started = time.monotonic()
    with pytest.raises(SyncFailed, match="rejected the access token"):
        run_sync(tenant.id, get_settings())
    assert time.monotonic() - started < 5
    assert (
        conn.execute(
            "select 1 from information_schema.schemata where schema_name = %s", (tenant.raw_schema,)
        ).fetchone()
        is None
    )
