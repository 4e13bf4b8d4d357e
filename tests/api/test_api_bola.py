"""BOLA matrix: for every protected route, nobody reaches another tenant's data.

Tenant B has data, an owner and a viewer; tenant A's owner, a user with no membership,
B's viewer (for writes) and four kinds of bad token all try every route against B.
"""

from __future__ import annotations

import time
import uuid

import jwt
import psycopg
import pytest

from api.auth import tokens

pytestmark = pytest.mark.anyio

# (method, path, tenant source, needs owner / analyst, json body)
TENANT_ROUTES = [
    ("GET", "/api/insights/dashboard", "header", None, None),
    ("GET", "/api/insights/abandoned-carts", "header", None, None),
    ("GET", "/api/shopify/products", "header", None, None),
    ("GET", "/api/shopify/customers", "header", None, None),
    ("GET", "/api/shopify/orders", "header", None, None),
    ("GET", "/api/shopify/sync", "header", None, None),
    ("POST", "/api/shopify/sync", "header", "analyst", {}),
    ("GET", "/api/v1/tenant/{b}", "path", None, None),
    ("PATCH", "/api/v1/tenant/{b}", "path", "owner", {"name": "pwned"}),
    ("DELETE", "/api/tenant/{b}", "path", "owner", None),
    ("GET", "/api/tenant/{b}/members", "path", "owner", None),
    ("POST", "/api/tenant/{b}/members", "path", "owner", {"email": "{a_email}", "role": "owner"}),
    ("DELETE", "/api/tenant/{b}/members/{b_owner_email}", "path", "owner", None),
]
OTHER_PROTECTED = [
    ("GET", "/api/tenant", None),
    ("POST", "/api/auth/logout", {"refreshToken": "x"}),
]


def bad_tokens(settings, user_id: uuid.UUID) -> dict[str, str]:
    now = int(time.time())
    claims = {
        "iss": tokens.ISSUER,
        "aud": tokens.AUDIENCE,
        "sub": str(user_id),
        "email": "x@example.com",
        "jti": "j",
        "iat": now,
        "exp": now + 600,
    }
    secret = settings.auth.jwt_secret
    return {
        "expired": jwt.encode({**claims, "iat": now - 900, "exp": now - 60}, secret, "HS256"),
        "other key": jwt.encode(claims, "a-different-secret-" + "z" * 40, "HS256"),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "wrong audience": jwt.encode({**claims, "aud": "another-api"}, secret, "HS256"),
    }


@pytest.fixture
async def world(client, register, make_tenant, fill_marts, api_database):
    a_owner, b_owner, b_viewer, stranger = (
        await register("a"),
        await register("b"),
        await register("bv"),
        await register("s"),
    )
    a = make_tenant(a_owner)
    b = make_tenant(b_owner, **{str(b_viewer.id): "viewer"})
    fill_marts(b)
    with psycopg.connect(api_database, autocommit=True) as conn:
        sync_id = conn.execute(
            "insert into app.sync_runs (tenant_id, trigger, status, finished_at) "
            "values (%s, 'cli', 'succeeded', now()) returning id",
            (b,),
        ).fetchone()[0]
    return locals()


def render(path: str, w: dict) -> str:
    return path.format(b=w["b"], a_email=w["a_owner"].email, b_owner_email=w["b_owner"].email)


def render_body(body, w):
    return None if body is None else {k: render(v, w) for k, v in body.items()}


def snapshot(api_database, tenant: uuid.UUID):
    with psycopg.connect(api_database) as conn:
        return (
            conn.execute("select name from app.tenants where id = %s", (tenant,)).fetchone(),
            conn.execute(
                "select array_agg((user_id, role) order by user_id) from app.memberships "
                "where tenant_id = %s",
                (tenant,),
            ).fetchone(),
            conn.execute(
                "select count(*) from app.sync_runs where tenant_id = %s", (tenant,)
            ).fetchone(),
        )


async def test_bola_matrix(client, world, settings, api_database):
    w = world
    before = snapshot(api_database, w["b"])
    b_data_marker = w["b_owner"].email  # B's member emails must never appear in a response
    for method, path, source, needs, body in TENANT_ROUTES:
        url, json = render(path, w), render_body(body, w)
        denied = 404 if source == "path" else 403
        attempts = {
            "member of A": (w["a_owner"], w["b"] if source == "header" else None),
            "no membership": (w["stranger"], w["b"]),
        }
        for who, (user, header_tenant) in attempts.items():
            headers = user.headers(header_tenant if source == "header" else None)
            response = await client.request(method, url, headers=headers, json=json)
            assert response.status_code == denied, (who, method, url, response.text)
            assert b_data_marker not in response.text
        if needs:
            response = await client.request(
                method, url, headers=w["b_viewer"].headers(w["b"]), json=json
            )
            assert response.status_code == 403, ("viewer", method, url, response.text)
        for kind, token in bad_tokens(settings, w["b_owner"].id).items():
            headers = {"Authorization": f"Bearer {token}", "x-tenant-id": str(w["b"])}
            response = await client.request(method, url, headers=headers, json=json)
            assert response.status_code == 401, (kind, method, url)
    for method, url, json in OTHER_PROTECTED:
        for kind, token in bad_tokens(settings, w["b_owner"].id).items():
            response = await client.request(
                method, url, headers={"Authorization": f"Bearer {token}"}, json=json
            )
            assert response.status_code == 401, (kind, method, url)
    assert snapshot(api_database, w["b"]) == before


async def test_a_member_of_a_cannot_read_b_sync_through_a(client, world):
    w = world
    response = await client.get(
        f"/api/shopify/sync/{w['sync_id']}", headers=w["a_owner"].headers(w["a"])
    )
    assert response.status_code == 404
    own = await client.get(
        f"/api/shopify/sync/{w['sync_id']}", headers=w["b_owner"].headers(w["b"])
    )
    assert own.status_code == 200 and own.json()["syncId"] == str(w["sync_id"])


async def test_a_sees_only_its_own_tenants_and_data(client, world):
    w = world
    listed = await client.get("/api/tenant", headers=w["a_owner"].headers())
    assert [t["id"] for t in listed.json()] == [str(w["a"])]
    dashboard = await client.get(
        "/api/insights/dashboard",
        params={"startDate": "2024-06-01", "endDate": "2024-06-30"},
        headers=w["a_owner"].headers(w["a"]),
    )
    assert dashboard.status_code == 200
    assert dashboard.json()["totalOrders"] == 0
    orders = await client.get("/api/shopify/orders", headers=w["a_owner"].headers(w["a"]))
    assert orders.json() == {"data": [], "count": 0, "nextCursor": None}


@pytest.mark.parametrize("header", ["", "not-a-uuid", "123"])
async def test_bad_tenant_header_is_400(client, register, header):
    user = await register()
    headers = user.headers()
    if header:
        headers["x-tenant-id"] = header
    response = await client.get("/api/insights/dashboard", headers=headers)
    assert response.status_code == 400
    assert "x-tenant-id" in response.json()["error"]
