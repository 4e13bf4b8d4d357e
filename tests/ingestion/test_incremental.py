"""Later syncs read only what changed since the cursor (minus the lookback) and merge it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from core.settings import get_settings
from ingestion.pipeline import last_cursor, tenant_pipeline
from ingestion.sync import run_sync
from tests.ingestion.conftest import raw_count


def shopify_time(value) -> str:
    """ISO 8601 with offset, as the simulator's REST `updated_at_min` expects."""
    return value.isoformat(timespec="seconds")


def _cursor(tenant, resource: str):
    """The committed cursor: a backfill's is its bulk operation's start, an increment's the
    newest `updated_at` it read."""
    cursor = last_cursor(tenant_pipeline(tenant, get_settings()), resource)
    assert cursor is not None
    return cursor


def test_incremental_sync_picks_up_creates_updates_and_keeps_deletes(sim, make_tenant, conn):
    shop = sim.shop(orders=200, rate_limit=False)
    domain = shop["domain"]
    tenant = make_tenant(shop)
    schema = tenant.raw_schema
    assert run_sync(tenant.id, get_settings()).status == "succeeded"
    before = {t: raw_count(conn, schema, t) for t in ("orders", "customers", "products")}
    cursors = {t: _cursor(tenant, t) for t in ("orders", "customers")}

    created = [sim.create(domain, "orders", {})["order"] for _ in range(3)]
    new_customer = sim.create(domain, "customers", {"first_name": "Ada"})["customer"]
    multi = next(o for o in sim.records(shop, "orders") if len(o["line_items"]) >= 2)
    kept_line = multi["line_items"][0]
    updated = sim.update(
        domain, "orders", multi["id"], {"email": "gift@example.com", "line_items": [kept_line]}
    )["order"]
    victim = next(o for o in sim.records(shop, "orders") if o["id"] != multi["id"])
    sim.delete(domain, "orders", victim["id"])

    second = run_sync(tenant.id, get_settings())

    assert second.status == "succeeded", second.error
    lag = timedelta(seconds=300)
    expected = sim.count(
        shop,
        "orders/count.json",
        status="any",
        updated_at_min=shopify_time(cursors["orders"] - lag),
    )
    assert second.rows_loaded["orders"] == expected < before["orders"]
    assert second.rows_loaded["customers"] == sim.count(
        shop, "customers/count.json", updated_at_min=shopify_time(cursors["customers"] - lag)
    )
    # Creates arrive, nothing is duplicated, and the deleted order stays until a webhook or
    # the daily reconciliation flags it: searches never return deleted records.
    assert raw_count(conn, schema, "orders") == before["orders"] + 3
    assert raw_count(conn, schema, "orders", distinct="id") == before["orders"] + 3
    assert raw_count(conn, schema, "orders", f"id = {victim['id']}") == 1
    for order in created:
        assert raw_count(conn, schema, "orders", f"id = {order['id']}") == 1
    assert raw_count(conn, schema, "customers", f"id = {new_customer['id']}") == 1

    # The updated order replaced its row and every nested row: no stale line items.
    email, dlt_id = conn.execute(
        f'select email, _dlt_id from "{schema}".orders where id = %s', (multi["id"],)
    ).fetchone()
    assert email == updated["email"] == "gift@example.com"
    lines = conn.execute(
        f'select id, price from "{schema}".orders__line_items where _dlt_root_id = %s', (dlt_id,)
    ).fetchall()
    assert lines == [(kept_line["id"], Decimal(kept_line["price"]))]
    assert raw_count(
        conn, schema, "orders__line_items__discount_allocations", f"_dlt_root_id = '{dlt_id}'"
    ) == len(updated["line_items"][0]["discount_allocations"])
    orphans = conn.execute(
        f'select count(*) from "{schema}".orders__line_items l where not exists '
        f'(select 1 from "{schema}".orders o where o._dlt_id = l._dlt_root_id)'
    ).fetchone()
    assert orphans == (0,)

    third = run_sync(tenant.id, get_settings())
    assert third.status == "succeeded"
    assert raw_count(conn, schema, "orders") == before["orders"] + 3
    assert third.rows_loaded.get("orders", 0) <= second.rows_loaded["orders"]
    assert raw_count(conn, schema, "orders", "_xeno_deleted_at is not null") == 0


def test_daily_reconciliation_flags_records_deleted_without_a_webhook(sim, make_tenant, conn):
    shop = sim.shop(orders=150, customers=40, rate_limit=False)
    domain, tenant = shop["domain"], make_tenant(shop)
    schema = tenant.raw_schema
    assert run_sync(tenant.id, get_settings()).status == "succeeded"
    orders = sim.records(shop, "orders", status="any")
    gone = [orders[3]["id"], orders[70]["id"]]
    for order_id in gone:
        sim.delete(domain, "orders", order_id)
    kept = sim.create(domain, "orders", {})["order"]

    daily = run_sync(tenant.id, get_settings(), trigger="schedule")

    assert daily.status == "succeeded", daily.error
    assert daily.rows_loaded["orders deleted"] == len(gone)
    flagged = conn.execute(
        f'select id from "{schema}".orders where _xeno_deleted_at is not null order by id'
    ).fetchall()
    assert [row[0] for row in flagged] == sorted(gone)
    assert raw_count(conn, schema, "orders", f"id = {kept['id']} and _xeno_deleted_at is null")
    # A flagged row gets a new load id, so the incremental marts pick the deletion up.
    newest = conn.execute(
        f'select max(_dlt_load_id) = (select max(_dlt_load_id) from "{schema}".orders '
        f'where _xeno_deleted_at is not null) from "{schema}".orders'
    ).fetchone()
    assert newest == (True,)
    again = run_sync(tenant.id, get_settings(), reconcile=True)
    assert "orders deleted" not in again.rows_loaded


def test_full_refresh_rebuilds_the_raw_schema_from_the_store(sim, make_tenant, conn):
    shop = sim.shop(orders=120, rate_limit=False)
    tenant = make_tenant(shop)
    assert run_sync(tenant.id, get_settings()).status == "succeeded"
    victim = sim.records(shop, "orders")[0]
    sim.delete(shop["domain"], "orders", victim["id"])

    rebuilt = run_sync(tenant.id, get_settings(), full_refresh=True)

    assert rebuilt.status == "succeeded" and rebuilt.full_refresh
    schema = tenant.raw_schema
    expected = sim.count(shop, "orders/count.json", status="any")
    assert rebuilt.rows_loaded["orders"] == expected
    assert raw_count(conn, schema, "orders") == expected  # the deleted order is gone now
    assert raw_count(conn, schema, "orders", f"id = {victim['id']}") == 0
