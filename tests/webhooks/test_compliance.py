"""The app-wide compliance route: Shopify's privacy topics for whichever store they name.

Deliveries are signed with the simulator's own signing (`simulator.webhooks.sign`) and the
app's client secret, as Shopify signs compliance topics; their effects are those of the
privacy code (export, erasure in raw and marts, scheduled tenant deletion).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from core.settings import get_settings
from ingestion.sync import run_sync
from ingestion.webhooks import apply_pending
from simulator.webhooks import sign
from tests.webhooks.conftest import Server, Shop, start_server, stored

APP_SECRET = "compliance-app-client-secret"
ROUTE = "/api/webhook/compliance"


@pytest.fixture(scope="module")
def app_server(wh_database: str) -> Iterator[Server]:
    """A receiver that knows the app's client secret; its webhook worker is off."""
    server = start_server(SHOPIFY_API_SECRET=APP_SECRET)
    yield server
    server.stop()


def signed(
    domain: str, topic: str, payload: dict, *, secret: str = APP_SECRET, webhook_id: str = ""
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"shop_domain": domain, **payload}).encode()
    return body, {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(secret, body),
        "X-Shopify-Shop-Domain": domain,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
    }


def post(server: Server, delivery: tuple[bytes, dict[str, str]], route: str = ROUTE):
    body, headers = delivery
    return httpx.post(f"{server.url}{route}", content=body, headers=headers)


def audit(conn: psycopg.Connection, where: str, *params: object) -> list[tuple]:
    return conn.execute(
        f"select tenant_id, action, detail from app.audit_log where {where} order by id", params
    ).fetchall()


def test_unsigned_or_incomplete_deliveries_get_401_and_nothing_is_stored(
    app_server, make_shop, conn
):
    shop, other = make_shop(), make_shop()
    good = signed(shop.domain, "shop/redact", {})
    body, headers = good
    cases = {
        "bad signature": {**headers, "X-Shopify-Hmac-Sha256": sign(APP_SECRET, b"{}")},
        "another store's secret": signed(
            shop.domain, "shop/redact", {}, secret=other.info["webhook_secret"]
        )[1],
        **{
            f"missing {name}": {k: v for k, v in headers.items() if k != name}
            for name in (
                "X-Shopify-Hmac-Sha256",
                "X-Shopify-Shop-Domain",
                "X-Shopify-Topic",
                "X-Shopify-Webhook-Id",
            )
        },
    }
    for case, bad in cases.items():
        response = post(app_server, (body, bad))
        assert response.status_code == 401, case
        assert "error" in response.json(), case
    unknown_unsigned = signed("never-connected.myshopify.com", "shop/redact", {}, secret="guess")
    assert post(app_server, unknown_unsigned).status_code == 401
    not_compliance = post(app_server, signed(shop.domain, "orders/create", {"id": 1}))
    assert not_compliance.status_code == 400
    assert "compliance topic" in not_compliance.json()["error"]
    assert stored(conn, shop.tenant.id) == 0
    assert audit(conn, "detail->>'shop_domain' = 'never-connected.myshopify.com'") == []
    assert post(app_server, good).json() == {"received": True}
    assert stored(conn, shop.tenant.id, "topic = 'shop/redact'") == 1


def test_duplicates_are_stored_once_across_both_routes(app_server, make_shop, conn):
    shop = make_shop()
    delivery = signed(shop.domain, "customers/data_request", {"customer": {"id": 1}})
    for route in (ROUTE, "/api/v1/webhook/compliance", ROUTE):
        assert post(app_server, delivery, route).status_code == 200
    # the same webhook id at the store's own route (signed with its secret): still once
    body, headers = delivery
    own = {**headers, "X-Shopify-Hmac-Sha256": sign(shop.info["webhook_secret"], body)}
    response = httpx.post(
        f"{app_server.url}/api/webhook/{shop.tenant.id}", content=body, headers=own
    )
    assert response.status_code == 200
    assert stored(conn, shop.tenant.id) == 1


def test_a_custom_app_store_may_sign_with_its_own_secret(app_server, make_shop, conn):
    shop = make_shop()
    delivery = signed(shop.domain, "shop/redact", {}, secret=shop.info["webhook_secret"])
    assert post(app_server, delivery).status_code == 200
    assert stored(conn, shop.tenant.id) == 1


def test_a_store_that_is_not_connected_is_acknowledged_and_recorded(app_server, make_shop, conn):
    domain = f"gone-{uuid.uuid4().hex[:8]}.myshopify.com"
    delivery = signed(domain, "shop/redact", {"shop_id": 1})
    assert post(app_server, delivery).json() == {"received": True}
    [(tenant_id, action, detail)] = audit(conn, "detail->>'shop_domain' = %s", domain)
    assert (tenant_id, action) == (None, "privacy.shop/redact")
    assert detail["webhook_id"] == delivery[1]["X-Shopify-Webhook-Id"]
    assert conn.execute(
        "select count(*) from app.webhook_events where headers->>'x-shopify-shop-domain' = %s",
        (domain,),
    ).fetchone() == (0,)

    # a store that was connected and has been erased since: the same answer
    shop = make_shop()
    conn.execute("select app.erase_tenant(%s)", (shop.tenant.id,))
    assert post(app_server, signed(shop.domain, "shop/redact", {})).status_code == 200
    recorded = audit(conn, "tenant_id is null and detail->>'shop_domain' = %s", shop.domain)
    assert [action for _, action, _ in recorded] == ["privacy.shop/redact"]


def _mart_customer(conn: psycopg.Connection, shop: Shop, customer: dict) -> None:
    conn.execute(
        "insert into marts.dim_customers (tenant_id, customer_id, email, first_name, last_name) "
        "values (%s, %s, %s, %s, %s)",
        (shop.tenant.id, customer["id"], customer["email"], "Ada", "Lovelace"),
    )


def test_each_topic_has_its_effect(app_server, make_shop, sim, conn):
    shop = make_shop(orders=5, customers=3)
    run_sync(shop.tenant.id, get_settings())
    customer = sim.records(shop.info, "customers")[0]
    _mart_customer(conn, shop, customer)
    ref = {"id": customer["id"], "email": customer["email"]}
    topics = {
        "customers/data_request": {"customer": ref, "orders_requested": []},
        "customers/redact": {"customer": ref, "orders_to_redact": []},
        "shop/redact": {"shop_id": 1},
    }
    for topic, payload in topics.items():
        assert post(app_server, signed(shop.domain, topic, payload)).status_code == 200
    batch = apply_pending(shop.tenant.id, get_settings())
    assert (batch.applied, batch.failed) == (3, 0)

    export = conn.execute(
        "select data from app.privacy_exports where tenant_id = %s", (shop.tenant.id,)
    ).fetchone()
    assert export is not None and export[0]["customer_id"] == customer["id"]
    assert export[0]["raw"]["customers"][0]["email"] == customer["email"]  # before the redact
    raw = conn.execute(
        f'select email, first_name from "{shop.tenant.raw_schema}".customers where id = %s',
        (customer["id"],),
    ).fetchall()
    assert raw == [(None, None)]
    mart = conn.execute(
        "select email, first_name from marts.dim_customers where tenant_id = %s",
        (shop.tenant.id,),
    ).fetchall()
    assert mart == [(None, None)]
    due = conn.execute(
        "select reason, due_at - requested_at from app.tenant_deletions where tenant_id = %s",
        (shop.tenant.id,),
    ).fetchone()
    grace = get_settings().webhooks.deletion_grace_hours
    assert due is not None and due[0] == "shop/redact" and due[1].total_seconds() == grace * 3600
    actions = [row[1] for row in audit(conn, "tenant_id = %s", shop.tenant.id)][1:]
    assert actions == [f"privacy.{topic}" for topic in topics]  # after tenant.created
