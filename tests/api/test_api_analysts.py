"""`/tenant/{id}/analysts`: an owner grants, lists and revokes analyst SQL logins."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

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
