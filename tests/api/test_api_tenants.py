"""Tenant lifecycle and memberships through the API (token checks against the simulator)."""

from __future__ import annotations

import uuid

import psycopg
import pytest

pytestmark = pytest.mark.anyio


def shop_body(simulator, name: str, **extra) -> dict:
    shop = simulator.shop(name)
    return {
        "name": f"Shop {name}",
        "shopifyDomain": shop.domain,
        "shopifyToken": shop.token,
        **extra,
    }


async def test_tenant_lifecycle(client, register, simulator, api_database):
    owner = await register("owner")
    body = shop_body(simulator, "alpha", webhookSecret="whsec")
    created = await client.post("/api/tenant", json=body, headers=owner.headers())
    assert created.status_code == 201, created.text
    tenant = created.json()
    assert set(tenant) == {
        "id",
        "name",
        "shopifyDomain",
        "userId",
        "createdAt",
        "updatedAt",
        "role",
    }
    assert tenant["userId"] == str(owner.id) and tenant["role"] == "owner"
    assert body["shopifyToken"] not in created.text

    duplicate = await client.post("/api/tenant", json=body, headers=owner.headers())
    assert duplicate.status_code == 409

    listed = await client.get("/api/v1/tenant", headers=owner.headers())
    assert [t["id"] for t in listed.json()] == [tenant["id"]]
    fetched = await client.get(f"/api/tenant/{tenant['id']}", headers=owner.headers())
    assert fetched.json()["shopifyDomain"] == body["shopifyDomain"]

    renamed = await client.patch(
        f"/api/tenant/{tenant['id']}", json={"name": "Renamed"}, headers=owner.headers()
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"
    rotated = await client.patch(
        f"/api/tenant/{tenant['id']}",
        json={"shopifyToken": body["shopifyToken"]},
        headers=owner.headers(),
    )
    assert rotated.status_code == 200
    rejected = await client.patch(
        f"/api/tenant/{tenant['id']}", json={"shopifyToken": "wrong"}, headers=owner.headers()
    )
    assert rejected.status_code == 400
    empty = await client.patch(f"/api/tenant/{tenant['id']}", json={}, headers=owner.headers())
    assert empty.status_code == 400

    with psycopg.connect(api_database, autocommit=True) as conn:
        raw = conn.execute("select raw_schema from app.tenants where id = %s", (tenant["id"],))
        schema = raw.fetchone()[0]
        conn.execute(f"create schema {schema}")
        conn.execute(
            "insert into marts.agg_revenue_daily (tenant_id, date, order_count) "
            "values (%s, '2024-01-01', 3)",
            (tenant["id"],),
        )
    deleted = await client.delete(f"/api/tenant/{tenant['id']}", headers=owner.headers())
    assert deleted.status_code == 204
    with psycopg.connect(api_database) as conn:
        assert conn.execute("select to_regnamespace(%s)", (schema,)).fetchone()[0] is None
        left = conn.execute(
            "select count(*) from marts.agg_revenue_daily where tenant_id = %s", (tenant["id"],)
        )
        assert left.fetchone()[0] == 0
        audit = conn.execute(
            "select array_agg(action order by id) from app.audit_log where tenant_id = %s",
            (tenant["id"],),
        ).fetchone()[0]
    assert audit[0] == "tenant.created" and audit[-1] == "tenant.deleted"
    gone = await client.get(f"/api/tenant/{tenant['id']}", headers=owner.headers())
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"shopifyDomain": "evil.com"}, 400),
        ({"shopifyDomain": "127.0.0.1:8787/x.myshopify.com"}, 400),
        ({"shopifyToken": "not-the-token"}, 400),
        ({"shopifyToken": ""}, 400),
        ({"userId": str(uuid.uuid4())}, 400),
        ({"name": 42}, 400),
    ],
)
async def test_create_rejects_bad_input_and_writes_nothing(
    client, register, simulator, api_database, change, status
):
    owner = await register()
    body = {**shop_body(simulator, "beta"), **change}
    response = await client.post("/api/tenant", json=body, headers=owner.headers())
    assert response.status_code == status, response.text
    assert response.json()["error"]
    with psycopg.connect(api_database) as conn:
        count = conn.execute("select count(*) from app.tenants where created_by = %s", (owner.id,))
        assert count.fetchone()[0] == 0


async def test_memberships(client, register, make_tenant):
    owner, colleague, outsider = await register("o"), await register("c"), await register("x")
    tenant = make_tenant(owner)
    path = f"/api/tenant/{tenant}/members"
    added = await client.post(
        path, json={"email": colleague.email, "role": "viewer"}, headers=owner.headers()
    )
    assert added.status_code == 201 and added.json()["role"] == "viewer"
    again = await client.post(
        path, json={"email": colleague.email, "role": "analyst"}, headers=owner.headers()
    )
    assert again.status_code == 409
    unknown = await client.post(
        path, json={"email": "nobody@example.com", "role": "viewer"}, headers=owner.headers()
    )
    assert unknown.status_code == 404
    bad_role = await client.post(
        path, json={"email": outsider.email, "role": "admin"}, headers=owner.headers()
    )
    assert bad_role.status_code == 400
    # the viewer sees the tenant but cannot manage it
    assert (await client.get(f"/api/tenant/{tenant}", headers=colleague.headers())).json()[
        "role"
    ] == "viewer"
    assert (await client.get(path, headers=colleague.headers())).status_code == 403
    members = await client.get(path, headers=owner.headers())
    assert {m["email"] for m in members.json()} == {owner.email, colleague.email}
    last_owner = await client.delete(f"{path}/{owner.email}", headers=owner.headers())
    assert last_owner.status_code == 409
    removed = await client.delete(f"{path}/{colleague.email}", headers=owner.headers())
    assert removed.status_code == 204
    assert (
        await client.get(f"/api/tenant/{tenant}", headers=colleague.headers())
    ).status_code == 404
