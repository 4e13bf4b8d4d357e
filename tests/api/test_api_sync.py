"""Sync requests: 202 with a run id, one active run per tenant, status per run."""

from __future__ import annotations

import psycopg
import pytest

from api.sync.worker import SyncWorker

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


async def test_worker_claims_queued_runs_once(register, make_tenant, settings, api_database):
    owner = await register_direct(api_database)
    tenant = make_tenant(owner)
    with psycopg.connect(api_database, autocommit=True) as conn:
        conn.execute(
            "update app.sync_runs set status = 'failed', finished_at = now() "
            "where status in ('queued', 'running')"
        )
        run_id = conn.execute(
            "insert into app.sync_runs (tenant_id, trigger) values (%s, 'api') returning id",
            (tenant,),
        ).fetchone()[0]
    worker = SyncWorker(settings)
    claimed = worker._claim()
    assert claimed is not None and claimed[0] == run_id and claimed[3] == "queued"
    # while the tenant's sync lock is held (a sync is running), nothing is claimable
    with psycopg.connect(api_database, autocommit=True) as conn:
        from ingestion.sync import LOCK_NAMESPACE

        conn.execute("select pg_advisory_lock(%s, hashtext(%s))", (LOCK_NAMESPACE, str(tenant)))
        assert all(c is None or c[1] != tenant for c in [worker._claim()])
        conn.execute(
            "update app.sync_runs set status = 'failed', finished_at = now() where id = %s",
            (run_id,),
        )


async def register_direct(api_database):
    import uuid

    from tests.api.conftest import User

    with psycopg.connect(api_database, autocommit=True) as conn:
        user_id = conn.execute(
            "insert into app.users (email, password_hash) values (%s, 'x') returning id",
            (f"w-{uuid.uuid4().hex[:8]}@example.com",),
        ).fetchone()[0]
    return User(user_id, "", "", "")


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
