"""Inputs that once reached a 500: each is a clear 4xx now, and nothing leaks."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.api.test_api_tenants import shop_body

pytestmark = pytest.mark.anyio


async def test_owner_sets_and_rotates_the_webhook_secret_with_an_audit_entry(
    client, register, make_tenant, api_database
):
    owner, viewer = await register("o"), await register("v")
    tenant = make_tenant(owner, **{str(viewer.id): "viewer"})
    with psycopg.connect(api_database) as conn:
        before = conn.execute(
            "select webhook_secret_encrypted from app.tenants where id = %s", (tenant,)
        ).fetchone()[0]
    for secret in ("first-secret", "rotated-secret"):
        response = await client.patch(
            f"/api/tenant/{tenant}", json={"webhookSecret": secret}, headers=owner.headers()
        )
        assert response.status_code == 200, response.text
        assert secret not in response.text
    refused = await client.patch(
        f"/api/tenant/{tenant}", json={"webhookSecret": "mine"}, headers=viewer.headers()
    )
    assert refused.status_code == 403
    with psycopg.connect(api_database) as conn:
        after = conn.execute(
            "select webhook_secret_encrypted from app.tenants where id = %s", (tenant,)
        ).fetchone()[0]
        audit = conn.execute(
            "select detail from app.audit_log where tenant_id = %s and action = 'tenant.updated'",
            (tenant,),
        ).fetchall()
    assert after is not None and after != before
    assert [row[0] for row in audit] == [{"fields": ["webhook_secret_encrypted"]}] * 2


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/auth/register", {"email": "nul\u0000@example.com", "password": "p" * 12}),
        ("/api/auth/login", {"email": "a\u0000@example.com", "password": "whatever"}),
        ("/api/tenant", None),
    ],
)
async def test_nul_in_a_json_body_is_a_400(client, register, simulator, path, body):
    owner = await register()
    if body is None:
        body = {**shop_body(simulator, "gamma"), "name": "Shop \u0000 gamma"}
    response = await client.post(path, json=body, headers=owner.headers())
    assert response.status_code == 400, response.text
    assert "NUL" in response.json()["error"] and response.json()["requestId"]


async def test_deeply_nested_json_is_a_400_before_anything_else(client):
    for depth in (100_000, 200):
        body = b"[" * depth + b"]" * depth
        response = await client.post(
            "/api/auth/register", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, (depth, response.text)
        assert "nested" in response.json()["error"]


async def test_oversized_headers_are_a_400(client):
    response = await client.get("/health", headers={"x-anything": "x" * 20_000})
    assert response.status_code == 400 and "header" in response.json()["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/shopify/orders",
        "/api/v1/shopify/sync",
        "/api/insights/dashboard",
        "/api/shopify/webhooks/events",
        "/api/tenant",
        f"/api/tenant/{uuid.uuid4()}",
        f"/api/tenant/{uuid.uuid4()}/members",
    ],
)
async def test_options_without_preflight_headers_is_never_a_500(client, register, path):
    owner = await register()
    for headers in ({}, owner.headers(uuid.uuid4()), {"x-tenant-id": "junk"}):
        response = await client.options(path, headers=headers)
        assert response.status_code in (204, 405), (headers, response.status_code, response.text)


async def test_a_stranger_cannot_learn_which_stores_are_connected(client, register, simulator):
    owner, stranger = await register("o"), await register("s")
    body = shop_body(simulator, "delta")
    assert (await client.post("/api/tenant", json=body, headers=owner.headers())).status_code == 201
    guess = {**body, "shopifyToken": "shpat_bogus"}
    probe = await client.post("/api/tenant", json=guess, headers=stranger.headers())
    assert probe.status_code == 400, probe.text
    assert "connected" not in probe.text
    # whoever holds the store's token may learn it is taken
    holder = await client.post("/api/tenant", json=body, headers=stranger.headers())
    assert holder.status_code == 409
