"""Live updates, the event log, and the tenant's scheduled deletion."""

from __future__ import annotations

import json

import httpx
import psycopg

from core.settings import get_settings
from ingestion.webhook_privacy import purge_due
from ingestion.webhooks import apply_pending
from tests.webhooks.conftest import register_owner
from tests.webhooks.test_apply import deliver


def member_headers(url: str, conn: psycopg.Connection, tenant_id: object, role: str) -> dict:
    headers, user_id = register_owner(url)
    conn.execute(
        "insert into app.memberships (tenant_id, user_id, role) values (%s, %s, %s)",
        (tenant_id, user_id, role),
    )
    return {**headers, "x-tenant-id": str(tenant_id)}


def test_stream_tells_members_about_changed_orders(server, make_shop, conn):
    shop = make_shop()
    headers = member_headers(server.url, conn, shop.tenant.id, "viewer")
    outsider = member_headers(server.url, conn, make_shop().tenant.id, "owner")
    outsider["x-tenant-id"] = str(shop.tenant.id)
    stream = f"{server.url}/api/events/stream"
    assert httpx.get(stream, headers=outsider).status_code == 403
    assert httpx.get(stream, headers={"x-tenant-id": str(shop.tenant.id)}).status_code == 401
    with httpx.stream("GET", stream, headers=headers, timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == "event: ready"
        deliver(server.url, shop, "orders/create", {"id": 5, "updated_at": "2024-06-01T00:00:00Z"})
        assert apply_pending(shop.tenant.id, get_settings()).applied == 1
        while next(lines) != "event: orders":
            pass
        data = json.loads(next(lines).removeprefix("data:"))
    assert data["ids"] == [5] and data["tenant"] == str(shop.tenant.id)


def test_event_log_reports_unhandled_topics(server, make_shop, conn):
    shop = make_shop()
    headers = member_headers(server.url, conn, shop.tenant.id, "viewer")
    deliver(server.url, shop, "inventory_levels/update", {"inventory_item_id": 1})
    apply_pending(shop.tenant.id, get_settings())
    response = httpx.get(
        f"{server.url}/api/shopify/webhooks/events", params={"status": "unhandled"}, headers=headers
    )
    assert response.status_code == 200
    [event] = response.json()
    assert event["topic"] == "inventory_levels/update" and "not handled" in event["error"]
    viewer_register = httpx.post(f"{server.url}/api/shopify/webhooks/register", headers=headers)
    assert viewer_register.status_code == 403  # owners only


def test_shop_redact_schedules_the_tenants_erasure(server, make_shop, conn):
    shop = make_shop()
    deliver(server.url, shop, "shop/redact", {"shop_domain": shop.domain})
    assert apply_pending(shop.tenant.id, get_settings()).applied == 1
    due = conn.execute(
        "select due_at > now() + interval '47 hours' from app.tenant_deletions "
        "where tenant_id = %s",
        (shop.tenant.id,),
    ).fetchone()
    assert due == (True,)  # TENANT_DELETION_GRACE_HOURS (48) from now
    assert shop.tenant.id not in purge_due(get_settings())
    conn.execute(
        "update app.tenant_deletions set due_at = now() where tenant_id = %s", (shop.tenant.id,)
    )
    assert shop.tenant.id in purge_due(get_settings())
    gone = conn.execute("select count(*) from app.tenants where id = %s", (shop.tenant.id,))
    assert gone.fetchone() == (0,)
    actions = conn.execute(
        "select action from app.audit_log where tenant_id = %s order by id", (shop.tenant.id,)
    ).fetchall()
    assert [a for (a,) in actions if a != "tenant.created"] == [
        "privacy.shop/redact",
        "tenant.erased",
    ]
