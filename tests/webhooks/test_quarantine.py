"""A delivery that can never be applied is quarantined with its reason; nothing else waits."""

from __future__ import annotations

import json
import uuid

import httpx
import psycopg
from psycopg.types.json import Jsonb

from core.settings import get_settings
from ingestion.webhooks import apply_all_pending, apply_pending
from tests.webhooks.conftest import Shop, register_owner, stored
from tests.webhooks.test_apply import deliver

# stored as they are: the receiver refuses non-objects now, but older rows (and any other
# writer) may hold them, and the apply step must survive whatever is in the table
POISON = [
    ("orders/create", 42),
    ("orders/updated", [1, 2]),
    ("customers/update", "text"),
    ("customers/update", {"id": "abc", "updated_at": "2024-06-01T10:00:00Z"}),
    ("customers/update", {"id": 7, "updated_at": "yesterday"}),
    ("customers/update", {"id": 7, "updated_at": "2024-06-01T10:00:00"}),
    ("customers/update", {"updated_at": "2024-06-01T10:00:00Z"}),
    ("products/delete", {"id": -1}),
    ("customers/redact", {"customer": ["not", "an", "object"]}),
]


def store(conn: psycopg.Connection, shop: Shop, events: list[tuple[str, object]]) -> None:
    conn.cursor().executemany(
        "insert into app.webhook_events (tenant_id, webhook_id, topic, headers, payload) "
        "values (%s, %s, %s, '{}', %s)",
        [(shop.tenant.id, str(uuid.uuid4()), topic, Jsonb(p)) for topic, p in events],
    )


def customer(shop_index: int, n: int) -> dict:
    return {
        "id": 9_000_000_000 + shop_index * 100_000 + n,
        "email": f"c{n}@example.com",
        "first_name": f"C{n}",
        "updated_at": "2024-06-01T10:00:00Z",
        "created_at": "2024-05-01T10:00:00Z",
    }


def test_poison_is_quarantined_and_neither_its_batch_nor_other_tenants_wait(
    server, make_shop, conn
):
    poisoned, healthy = make_shop(), make_shop()
    store(conn, poisoned, POISON)
    deliver(server.url, poisoned, "customers/create", customer(1, 1))
    store(conn, healthy, [("customers/update", customer(2, n)) for n in range(1_000)])

    # one pass over both tenants, as the apply loop makes it: neither raises
    results = {
        shop.tenant.id: apply_all_pending(shop.tenant.id, get_settings())
        for shop in (poisoned, healthy)
    }
    assert all(r.ok for r in results.values()), results
    assert stored(conn, healthy.tenant.id, "status = 'applied'") == 1_000
    assert stored(conn, poisoned.tenant.id, "status = 'applied'") == 1
    assert stored(conn, poisoned.tenant.id, "status = 'quarantined'") == len(POISON)
    reasons = conn.execute(
        "select error from app.webhook_events where tenant_id = %s and status = 'quarantined'",
        (poisoned.tenant.id,),
    ).fetchall()
    assert all(reason for (reason,) in reasons)
    loaded = conn.execute(f'select count(*) from "{healthy.tenant.raw_schema}".customers')
    assert loaded.fetchone()[0] == 1_000
    # terminal: nothing is due any more, the next pass has nothing to do
    assert apply_pending(poisoned.tenant.id, get_settings()).events == 0


def test_quarantine_shows_in_the_event_log_and_metrics(server, make_shop, conn):
    shop = make_shop()
    store(conn, shop, POISON[:2])
    apply_pending(shop.tenant.id, get_settings())
    headers, user_id = register_owner(server.url)
    conn.execute(
        "insert into app.memberships (tenant_id, user_id, role) values (%s, %s, 'viewer')",
        (shop.tenant.id, user_id),
    )
    listed = httpx.get(
        f"{server.url}/api/shopify/webhooks/events",
        params={"status": "quarantined"},
        headers={**headers, "x-tenant-id": str(shop.tenant.id)},
    )
    assert listed.status_code == 200, listed.text
    assert [e["status"] for e in listed.json()] == ["quarantined"] * 2
    assert "not an object" in listed.json()[0]["error"]

    assert httpx.get(f"{server.url}/api/tenant").status_code == 401
    assert httpx.get(f"{server.url}/api/tenant", headers={"Authorization": "Bearer x"}).is_error
    metrics = httpx.get(f"{server.url}/metrics").text
    quarantined = next(
        line
        for line in metrics.splitlines()
        if line.startswith("xeno_webhook_events{") and 'status="quarantined"' in line
    )
    total = conn.execute("select count(*) from app.webhook_events where status = 'quarantined'")
    assert float(quarantined.split()[-1]) == total.fetchone()[0] >= 2
    assert 'xeno_auth_rejected_total{reason="missing"}' in metrics
    assert 'xeno_auth_rejected_total{reason="invalid"}' in metrics


def test_a_receiver_refusal_is_not_quarantined_but_never_stored(server, make_shop, conn):
    shop = make_shop()
    body = json.dumps([{"id": 1}]).encode()
    response = httpx.post(
        f"{server.url}/api/webhook/{shop.tenant.id}",
        content=body,
        headers=shop.headers(body, "orders/create"),
    )
    assert response.status_code == 400
    assert stored(conn, shop.tenant.id) == 0


def test_a_payload_that_breaks_the_load_fails_alone(make_shop, conn):
    shop = make_shop()
    good = [("customers/update", customer(3, n)) for n in range(7)]
    # passes every check, but no column type holds it: the load of its batch fails
    poison = ("customers/update", {**customer(3, 99), "created_at": "2024-02-30T10:00:00Z"})
    store(conn, shop, [*good[:3], poison, *good[3:]])
    batch = apply_pending(shop.tenant.id, get_settings())
    assert (batch.applied, batch.failed) == (7, 1)
    (error,) = conn.execute(
        "select error from app.webhook_events where tenant_id = %s and status = 'failed'",
        (shop.tenant.id,),
    ).fetchone()
    assert "PipelineStepFailed" not in error  # the root cause, not dlt's wrapper
    loaded = conn.execute(f'select count(*) from "{shop.tenant.raw_schema}".customers')
    assert loaded.fetchone()[0] == 7
