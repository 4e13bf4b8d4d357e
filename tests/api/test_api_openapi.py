"""The OpenAPI document says what the API does: error shape, statuses, the
tenant header, and which routes need a token. The fuzz test checks the answers against it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio

PUBLIC = {
    "register",
    "login",
    "refreshSession",
    "receiveWebhook",
    "receiveComplianceWebhook",
    "health",
    "status",
    "ready",
    "metrics",
}
TENANT_HEADER_OPERATIONS = {
    "requestSync",
    "getSync",
    "listSyncs",
    "listProducts",
    "listCustomers",
    "listOrders",
    "getDashboard",
    "listAbandonedCarts",
    "registerWebhooks",
    "listWebhookEvents",
    "streamEvents",
}


@pytest.fixture
async def operations(client) -> dict[str, tuple[str, str, dict]]:
    document = (await client.get("/schema/openapi.json")).json()
    assert "security" not in document  # no global requirement: each operation says
    return {
        op["operationId"]: (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "patch", "delete", "put"}
    }


async def test_every_error_is_documented_in_the_shape_the_api_sends(operations):
    for name, (_, _, op) in operations.items():
        errors = {code: r for code, r in op["responses"].items() if int(code) >= 400}
        assert "400" in errors, name
        for code, response in errors.items():
            ref = response["content"]["application/json"]["schema"]["$ref"]
            expected = "Unready" if (name, code) == ("ready", "503") else "ErrorBody"
            assert ref.endswith("/" + expected), (name, code, ref)


async def test_statuses_are_documented_where_they_occur(operations):
    def statuses(name: str) -> set[str]:
        return set(operations[name][2]["responses"])

    assert {"409", "413", "429"} <= statuses("register")
    assert {"401", "429"} <= statuses("login")
    assert {"401", "409", "413", "502"} <= statuses("createTenant")
    assert {"401", "403", "404", "502"} <= statuses("updateTenant")
    assert {"404"} <= statuses("getSync")
    assert {"401", "403"} <= statuses("getDashboard")
    assert "401" in statuses("receiveWebhook") and "413" in statuses("receiveWebhook")
    assert "503" in statuses("ready")
    for name in operations:
        if name not in PUBLIC:
            assert "401" in statuses(name), name


async def test_public_routes_need_no_token_and_tenant_routes_document_the_header(operations):
    for name, (_, _, op) in operations.items():
        assert bool(op.get("security")) == (name not in PUBLIC), name
        headers = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
        assert ("x-tenant-id" in headers) == (name in TENANT_HEADER_OPERATIONS), name


async def test_a_404_for_an_unknown_path_has_the_error_shape(client):
    response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert set(response.json()) == {"error", "requestId"}
    assert response.headers["x-request-id"] == response.json()["requestId"]


async def test_injected_values_are_not_parameters(operations):
    """The caller, the tenant scope and the services are injected, never asked of clients."""
    injected = {"principal", "tenant", "service", "receiver", "broker", "settings", "db"}
    for name, (_, _, op) in operations.items():
        parameters = {p["name"] for p in op.get("parameters", [])}
        assert not parameters & injected, name
