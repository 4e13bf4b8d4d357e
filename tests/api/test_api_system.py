"""Service basics: health, readiness, metrics, schema, CORS, headers, limits, errors."""

from __future__ import annotations

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from tests.api.conftest import make_settings

pytestmark = pytest.mark.anyio


async def test_health_status_ready(client):
    health = await client.get("/health")
    assert health.status_code == 200
    assert set(health.json()) == {"status", "timestamp", "environment"}
    assert health.json()["status"] == "OK"
    status = (await client.get("/status")).json()
    assert status["status"] == "running" and status["service"] and status["version"]
    ready = await client.get("/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


async def test_ready_is_503_with_pending_migrations(make_database, admin_url, simulator):
    url = make_database()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("select 1")
    from core import migrate

    migrate.upgrade(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("delete from app.schema_migrations where version = 1")
    async with AsyncTestClient(app=create_app(make_settings(url, simulator))) as client:
        response = await client.get("/ready")
    assert response.status_code == 503
    assert "0001_app_schema" in response.json()["pendingMigrations"]


async def test_metrics_group_routes_by_template(client, register):
    user = await register()
    await client.get("/api/tenant/00000000-0000-0000-0000-000000000001", headers=user.headers())
    text = (await client.get("/metrics")).text
    assert "/api/tenant/{tenant_id:uuid}" in text or "/api/tenant/{tenant_id}" in text
    assert "00000000-0000-0000-0000-000000000001" not in text


async def test_schema_has_an_operation_id_on_every_route(client):
    schema = (await client.get("/schema/openapi.json")).json()
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert operations and all(op.get("operationId") for op in operations)
    assert any(p.startswith("/api/v1/") for p in schema["paths"])


async def test_security_headers_request_id_and_cors(client):
    response = await client.get("/health", headers={"x-request-id": "req-12345678"})
    assert response.headers["x-request-id"] == "req-12345678"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    allowed = await client.options(
        "/api/tenant",
        headers={"origin": "http://localhost:3000", "access-control-request-method": "GET"},
    )
    assert allowed.headers.get("access-control-allow-origin") == "http://localhost:3000"
    denied = await client.options(
        "/api/tenant",
        headers={"origin": "https://evil.example", "access-control-request-method": "GET"},
    )
    assert denied.headers.get("access-control-allow-origin") is None


async def test_huge_bodies_are_413(client, register):
    user = await register()
    body = b'{"name": "' + b"x" * 2_000_000 + b'"}'
    response = await client.post(
        "/api/tenant", content=body, headers={**user.headers(), "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]


async def test_unknown_routes_and_methods_are_json_errors(client, register):
    user = await register()
    missing = await client.get("/api/shopify/invoices", headers=user.headers("x"))
    assert missing.status_code == 404 and "error" in missing.json()
    wrong_method = await client.put("/health")
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()
    unauthenticated = await client.get("/api/tenant")
    assert unauthenticated.status_code == 401
    assert "traceback" not in unauthenticated.text.lower()


async def test_access_log_and_metrics_record_the_status_sent(client, register, caplog):
    """401 (auth middleware) and the x-tenant-id 400 leave as raised, not as 500s."""
    user = await register()
    with caplog.at_level("INFO", logger="api.access"):
        unauthenticated = await client.get("/api/insights/dashboard")
        no_tenant = await client.get("/api/insights/dashboard", headers=user.headers())
    assert unauthenticated.status_code == 401 and no_tenant.status_code == 400
    assert unauthenticated.json()["requestId"] and "x-tenant-id" in no_tenant.json()["error"]
    assert no_tenant.headers["x-content-type-options"] == "nosniff"
    logged = [r.status for r in caplog.records if r.name == "api.access"]
    assert logged == [401, 400]
    metrics = [
        line
        for line in (await client.get("/metrics")).text.splitlines()
        if line.startswith("litestar_requests_total") and 'path="/api/insights/dashboard"' in line
    ]
    assert any('status_code="401"' in line for line in metrics), metrics
    assert any('status_code="400"' in line for line in metrics), metrics
    assert not any('status_code="500"' in line for line in metrics), metrics


async def test_a_refused_cors_preflight_is_a_json_error(client):
    denied = await client.options(
        "/api/tenant",
        headers={"origin": "https://evil.example", "access-control-request-method": "GET"},
    )
    assert denied.status_code == 400
    assert denied.headers["content-type"].startswith("application/json")
    body = denied.json()
    assert "https://evil.example" in body["error"] and body["requestId"]
    assert denied.headers["x-request-id"] == body["requestId"]
