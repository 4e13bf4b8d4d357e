"""`/tenant/{id}/analysts`: an owner grants, lists and revokes analyst SQL logins;
`/tenant/{id}/export`: owners and analysts download the tenant's marts as DuckDB."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import duckdb
import psycopg
import pytest
from litestar.testing import AsyncTestClient
from psycopg import sql

from api.app import create_app
from dbt_project import layout
from dbt_project.runner import MART_MODELS
from tests.api.conftest import make_settings

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module", autouse=True)
def analyst_role(admin_url, api_database) -> None:
    """The group role (cluster-wide, made with the admin URL) and the marts secured for it."""
    with (
        psycopg.connect(admin_url, autocommit=True) as conn,
        contextlib.suppress(psycopg.errors.DuplicateObject),
    ):
        conn.execute("create role xeno_analyst nologin nosuperuser nobypassrls")
    with psycopg.connect(api_database, autocommit=True) as conn:
        conn.execute("select app.ensure_analyst_role()")
        conn.execute("select app.ensure_api_role()")
        conn.execute("select app.grant_analyst_access()")


@pytest.fixture
def login(admin_url) -> Iterator[str]:
    name = f"analyst_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


@pytest.fixture
async def team(register, make_tenant, fill_marts):
    owner, analyst, outsider = await register("owner"), await register("an"), await register()
    tenant = make_tenant(owner, **{str(analyst.id): "analyst"})
    fill_marts(tenant, days=3, orders_per_day=2)
    other = make_tenant(outsider)
    fill_marts(other, days=2, orders_per_day=1)
    return owner, analyst, outsider, tenant


async def test_owner_grants_lists_and_revokes(client, team, login):
    owner, _, _, tenant = team
    path = f"/api/tenant/{tenant}/analysts"
    response = await client.post(path, json={"login": login}, headers=owner.headers())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["login"] == login and body["created"] is True
    url = body["connectionUrl"]
    with psycopg.connect(url) as conn:
        rows = conn.execute("select distinct tenant_id, count(*) from marts.fct_orders group by 1")
        assert rows.fetchall() == [(tenant, 6)]  # the other tenant's 2 orders stay hidden

    listed = await client.get(path, headers=owner.headers())
    assert listed.status_code == 200
    assert [(g["login"], g["grantedBy"]) for g in listed.json()] == [(login, f"user:{owner.id}")]

    response = await client.delete(f"{path}/{login}", headers=owner.headers())
    assert response.status_code == 204
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url)
    response = await client.delete(f"{path}/{login}", headers=owner.headers())
    assert response.status_code == 404


async def test_only_an_owner_may_grant(client, team, login):
    _, analyst, outsider, tenant = team
    path = f"/api/tenant/{tenant}/analysts"
    response = await client.post(path, json={"login": login}, headers=analyst.headers())
    assert response.status_code == 403
    response = await client.post(path, json={"login": login}, headers=outsider.headers())
    assert response.status_code == 404
    response = await client.get(path, headers=analyst.headers())
    assert response.status_code == 403


async def test_bad_login_names(client, team):
    owner, _, _, tenant = team
    path = f"/api/tenant/{tenant}/analysts"
    for bad in ("Robert'); drop", "ab", "xeno_api", "pg_monitor"):
        response = await client.post(path, json={"login": bad}, headers=owner.headers())
        assert response.status_code == 400, (bad, response.text)


async def test_export_route_streams_the_tenants_marts(client, team, tmp_path, api_database):
    owner, analyst, _, tenant = team
    path = f"/api/tenant/{tenant}/export"
    for user in (owner, analyst):
        response = await client.get(path, headers=user.headers())
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/vnd.duckdb")
        snapshot = tmp_path / f"{user.id}.duckdb"
        snapshot.write_bytes(response.content)
        with duckdb.connect(str(snapshot), read_only=True) as duck:
            assert duck.execute("select distinct tenant_id from fct_orders").fetchall() == [
                (tenant,)
            ]
            (revenue,) = duck.execute("select sum(total_revenue) from agg_revenue_daily").fetchone()
            readme = duck.execute("select mart, row_count from README order by mart").fetchall()
        assert revenue == Decimal("63.00")  # 3 days x 2 orders x 10.50, exact
        assert ("fct_orders", 6) in readme and len(readme) == len(MART_MODELS)
    with psycopg.connect(api_database) as conn:
        (exports,) = conn.execute(
            "select count(*) from app.audit_log where tenant_id = %s and action = 'marts.exported'",
            (tenant,),
        ).fetchone()
    assert exports == 2
    # The snapshot gives the dashboard's figures for a range (END = 2024-06-30).
    params = {"startDate": "2024-06-29", "endDate": "2024-06-30"}
    dashboard = await client.get(
        "/api/insights/dashboard", params=params, headers=owner.headers(tenant)
    )
    assert dashboard.status_code == 200, dashboard.text
    with duckdb.connect(str(snapshot), read_only=True) as duck:
        orders, revenue = duck.execute(
            "select sum(order_count), sum(total_revenue) from agg_revenue_daily "
            "where date between ? and ?",
            [date(2024, 6, 29), date(2024, 6, 30)],
        ).fetchone()
    body = dashboard.json()
    assert (orders, revenue) == (body["totalOrders"], Decimal(str(body["totalRevenue"])))


async def test_export_route_refuses_other_tenants_and_viewers(client, team, register, make_tenant):
    _, _, outsider, tenant = team
    viewer = await register("viewer")
    response = await client.get(f"/api/tenant/{tenant}/export", headers=outsider.headers())
    assert response.status_code == 404
    shared = make_tenant(outsider, **{str(viewer.id): "viewer"})
    response = await client.get(f"/api/tenant/{shared}/export", headers=viewer.headers())
    assert response.status_code == 403


async def test_model_docs_route(team, register, make_tenant, settings, simulator, tmp_path):
    owner, analyst, outsider, tenant = team
    viewer = await register("viewer")
    shared = make_tenant(owner, **{str(viewer.id): "viewer"})
    app = create_app(make_settings(settings.database.url, simulator, DATA_DIR=str(tmp_path)))
    async with AsyncTestClient(app=app) as client:
        path = f"/api/tenant/{tenant}/model-docs"
        response = await client.get(path, headers=owner.headers())
        assert response.status_code == 404 and "xeno docs generate" in response.text
        site = layout.docs_file(tmp_path)
        site.parent.mkdir(parents=True)
        site.write_text("<html>model docs</html>")
        for user in (owner, analyst):
            response = await client.get(path, headers=user.headers())
            assert response.status_code == 200 and response.text == "<html>model docs</html>"
            assert "attachment" in response.headers["content-disposition"]
        response = await client.get(path, headers=outsider.headers())
        assert response.status_code == 404
        response = await client.get(f"/api/tenant/{shared}/model-docs", headers=viewer.headers())
        assert response.status_code == 403
