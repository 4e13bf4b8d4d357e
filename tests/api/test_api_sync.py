"""Sync requests: 202 with a run id, one active run per tenant, status per run."""

from __future__ import annotations

import psycopg
import pytest

pytestmark = pytest.mark.anyio


async def test_request_twice_returns_the_active_run(client, register, make_tenant, settings):
    owner = await register()
    tenant = make_tenant(owner)
    first = await client.post("/api/shopify/sync", headers=owner.headers(tenant))
    assert first.status_code == 202
    body = first.json()
    assert set(body) == {"message", "syncId", "status"} and body["status"] == "queued"
    second = await client.post(
        "/api/shopify/sync", json={"fullRefresh": True}, headers=owner.headers(tenant)
    )
    assert second.status_code == 202 and second.json()["syncId"] == body["syncId"]
    status = await client.get(f"/api/shopify/sync/{body['syncId']}", headers=owner.headers(tenant))
    assert status.status_code == 200
    assert status.json()["status"] == "queued" and status.json()["rowsLoaded"] == {}
    listed = await client.get("/api/shopify/sync", headers=owner.headers(tenant))
    assert [r["syncId"] for r in listed.json()] == [body["syncId"]]
    bad = await client.post(
        "/api/shopify/sync", json={"tenantId": str(tenant)}, headers=owner.headers(tenant)
    )
    assert bad.status_code == 400
    unknown = await client.get(
        "/api/shopify/sync/00000000-0000-0000-0000-000000000000", headers=owner.headers(tenant)
    )
    assert unknown.status_code == 404


async def test_a_loaded_sync_is_transforming_until_the_marts_are_rebuilt(
    client, register, make_tenant, api_database
):
    owner = await register()
    tenant = make_tenant(owner)
    with psycopg.connect(api_database, autocommit=True) as conn:
        run_id = conn.execute(
            "insert into app.sync_runs (tenant_id, trigger, status, started_at, finished_at) "
            "values (%s, 'api', 'succeeded', now(), now()) returning id",
            (tenant,),
        ).fetchone()[0]
    url = f"/api/shopify/sync/{run_id}"
    loaded = (await client.get(url, headers=owner.headers(tenant))).json()
    assert (loaded["status"], loaded["martsBuiltAt"]) == ("transforming", None)
    with psycopg.connect(api_database, autocommit=True) as conn:
        conn.execute(
            "insert into app.mart_builds (tenant_id) values (%s) "
            "on conflict (tenant_id) do update set built_at = now()",
            (tenant,),
        )
    built = (await client.get(url, headers=owner.headers(tenant))).json()
    assert built["status"] == "succeeded" and built["martsBuiltAt"] is not None
