"""Stored webhooks reach the raw tables (through the sync's own line load) and the marts."""

from __future__ import annotations

import json
import time

import httpx
import psycopg

from core.settings import get_settings
from ingestion.sync import run_sync
from ingestion.webhooks import apply_pending
from tests.webhooks.conftest import Shop, register_owner, stored

ORDER_ID = 7_000_000_001


def deliver(url: str, shop: Shop, topic: str, payload: dict) -> None:
    body = json.dumps(payload).encode()
    response = httpx.post(
        f"{url}/api/webhook/{shop.tenant.id}", content=body, headers=shop.headers(body, topic)
    )
    assert response.status_code == 200, response.text


def raw(conn: psycopg.Connection, shop: Shop, query: str, *params: object) -> list[tuple]:
    return conn.execute(query.format(s=f'"{shop.tenant.raw_schema}"'), params).fetchall()


def events_of(conn: psycopg.Connection, shop: Shop) -> list[tuple]:
    query = "select topic, status, error from app.webhook_events where tenant_id = %s order by id"
    return conn.execute(query, (shop.tenant.id,)).fetchall()


def wait_until(condition, seconds: float = 120, why=lambda: None) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out: {why()}"
        time.sleep(0.5)


def order(sim, shop: Shop, **fields: object) -> dict:
    """A realistic order payload (the simulator's REST shape), with overrides."""
    base = sim.records(shop.info, "orders", status="any")[0]
    return {**base, "id": ORDER_ID, "name": "#9001", **fields}


def test_out_of_order_updates_keep_the_newest_and_deletes_flag(server, make_shop, sim, conn):
    shop = make_shop()
    newer = order(sim, shop, updated_at="2024-06-02T10:00:00Z", email="newest@example.com")
    older = order(sim, shop, updated_at="2024-06-01T10:00:00Z", email="older@example.com")
    deliver(server.url, shop, "orders/updated", newer)
    deliver(server.url, shop, "orders/updated", older)  # same batch: the newest wins
    batch = apply_pending(shop.tenant.id, get_settings())
    assert (batch.applied, batch.skipped) == (1, 1)
    deliver(server.url, shop, "orders/updated", older)  # a later batch: still stale
    assert apply_pending(shop.tenant.id, get_settings()).skipped == 1
    newest = [("newest@example.com",)]
    assert raw(conn, shop, "select email from {s}.orders where id = %s", ORDER_ID) == newest
    lines = raw(conn, shop, "select count(*) from {s}.orders__line_items")[0][0]
    assert lines == len(newer["line_items"])  # nested tables, like a sync

    deliver(server.url, shop, "orders/delete", {"id": ORDER_ID})
    deliver(server.url, shop, "products/delete", {"id": 424242})  # never loaded
    deliver(server.url, shop, "carts/create", {"id": "c1", "token": "c1"})
    deliver(server.url, shop, "shop/update", {"id": 1})
    batch = apply_pending(shop.tenant.id, get_settings())
    assert (batch.applied, batch.skipped, batch.unhandled) == (2, 1, 1)
    flagged = raw(conn, shop, "select _xeno_deleted_at is not null from {s}.orders")
    assert flagged == [(True,)]
    deliver(server.url, shop, "orders/updated", order(sim, shop, updated_at="2030-01-01T00:00:00Z"))
    assert (
        apply_pending(shop.tenant.id, get_settings()).skipped == 1
    )  # a deleted order stays deleted
    assert stored(conn, shop.tenant.id, "status = 'unhandled' and topic = 'shop/update'") == 1


def test_store_mutation_reaches_raw_and_marts_and_redaction_removes_identity(
    make_shop, server_factory, worker_factory, sim, conn
):  # make_shop first: its tenants are erased after the worker has stopped building them
    shop = make_shop(orders=20, customers=10)
    server = server_factory()
    headers, user_id = register_owner(server.url)
    conn.execute(
        "insert into app.memberships (tenant_id, user_id, role) values (%s, %s, 'owner')",
        (shop.tenant.id, user_id),
    )
    run_sync(shop.tenant.id, get_settings())
    worker_factory()
    headers["x-tenant-id"] = str(shop.tenant.id)
    first = httpx.post(f"{server.url}/api/shopify/webhooks/register", headers=headers, timeout=30)
    assert first.status_code == 200, first.text
    assert {w["status"] for w in first.json()["webhooks"]} == {"created"}
    assert first.json()["complianceAddress"] == f"{server.url}/api/webhook/compliance"
    again = httpx.post(f"{server.url}/api/shopify/webhooks/register", headers=headers, timeout=30)
    assert {w["status"] for w in again.json()["webhooks"]} == {"exists"}

    ada = {"email": "ada@example.com", "first_name": "Ada"}
    customer = sim.create(shop.domain, "customers", ada)["customer"]
    order_id = sim.create(shop.domain, "orders", {"customer_id": customer["id"]})["order"]["id"]
    sim.update(shop.domain, "orders", order_id, {"cancel": True, "reason": "customer"})
    victim = sim.records(shop.info, "products")[0]["id"]
    sim.delete(shop.domain, "products", victim)

    def marts_show_it() -> bool:
        with psycopg.connect(conn.info.dsn) as c:
            cancelled = c.execute(
                "select is_cancelled from marts.fct_orders where tenant_id = %s and order_id = %s",
                (shop.tenant.id, order_id),
            ).fetchone()
            listed = c.execute(
                "select count(*) from marts.dim_products "
                "where tenant_id = %s and product_id = %s and is_listed",
                (shop.tenant.id, victim),
            ).fetchone()
        return cancelled == (True,) and listed == (0,)

    wait_until(marts_show_it, why=lambda: events_of(conn, shop))
    deleted = "select _xeno_deleted_at is not null from {s}.products where id = %s"
    assert raw(conn, shop, deleted, victim) == [(True,)]

    customer_ref = {"id": customer["id"], "email": "ada@example.com"}
    deliver(server.url, shop, "customers/data_request", {"customer": customer_ref})
    redact = {"customer": customer_ref, "orders_to_redact": [order_id]}
    deliver(server.url, shop, "customers/redact", redact)
    wait_until(
        lambda: (
            stored(conn, shop.tenant.id, "topic like 'customers/%%' and status = 'applied'") >= 2
        )
    )
    customers = "select email, first_name from {s}.customers where id = %s"
    assert raw(conn, shop, customers, customer["id"]) == [(None, None)]
    orders = "select email, customer__email from {s}.orders where id = %s"
    assert raw(conn, shop, orders, order_id) == [(None, None)]

    def mart_forgets() -> bool:
        # the redaction nulls the mart rows at once; a build that read raw before it may
        # still write them back, and the rebuild the redaction asked for nulls them again
        mart = conn.execute(
            "select email, first_name from marts.dim_customers "
            "where tenant_id = %s and customer_id = %s",
            (shop.tenant.id, customer["id"]),
        ).fetchall()
        return all(row == (None, None) for row in mart)

    wait_until(mart_forgets)
    audit = {
        r[0]
        for r in conn.execute(
            "select action from app.audit_log where tenant_id = %s", (shop.tenant.id,)
        )
    }
    assert {
        "privacy.customers/redact",
        "privacy.customers/data_request",
        "webhooks.registered",
    } <= audit
    exported = conn.execute(
        "select data from app.privacy_exports where tenant_id = %s", (shop.tenant.id,)
    ).fetchone()
    assert exported is not None and exported[0]["customer_id"] == customer["id"]
