"""Analyst logins: read their tenants' mart rows and nothing else, enforced by PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest
from click.testing import CliRunner

from core import analysts
from core.cli import cli
from core.settings import get_settings
from dbt_project.runner import MART_MODELS

pytestmark = pytest.mark.slow


def grant(database_url: str, tenant, login: str) -> analysts.Granted:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return analysts.grant(
            conn, tenant.id, login, actor="test", settings=get_settings(), base_url=database_url
        )


def revoke(database_url: str, tenant, login: str) -> bool:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return analysts.revoke(conn, tenant.id, login, actor="test")


def counts(url: str, where: str = "true") -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            mart: conn.execute(f"select count(*) from marts.{mart} where {where}").fetchone()[0]
            for mart in MART_MODELS
        }


def test_reads_own_tenant_rows_only(database_url, shops, login_name):
    a, b = shops["a"], shops["b"]
    granted = grant(database_url, a, login_name())
    assert granted.created and granted.password and granted.password in granted.connection_url

    own = counts(database_url, f"tenant_id = '{a.id}'")
    assert own["fct_orders"] > 0 and own["agg_revenue_daily"] > 0
    assert counts(granted.connection_url) == own
    assert set(counts(granted.connection_url, f"tenant_id = '{b.id}'").values()) == {0}
    with psycopg.connect(granted.connection_url) as conn:
        # The API's tenant setting is any session's to set: it must not open B's rows.
        conn.execute("select set_config('app.tenant_id', %s, false)", (str(b.id),))
        tenants = conn.execute("select distinct tenant_id from marts.fct_orders").fetchall()
        assert tenants == [(a.id,)]
        # Money stays exact for the analyst too.
        (total,) = conn.execute("select sum(net_revenue) from marts.agg_revenue_daily").fetchone()
    with psycopg.connect(database_url) as conn:
        (expected,) = conn.execute(
            "select sum(net_revenue) from marts.agg_revenue_daily where tenant_id = %s", (a.id,)
        ).fetchone()
    assert total == expected and str(total) == str(expected)


def test_no_app_raw_or_writes(database_url, shops, login_name):
    a, b = shops["a"], shops["b"]
    url = grant(database_url, a, login_name()).connection_url
    forbidden = [
        "select * from app.tenants",
        "select * from app.analyst_grants",
        "select app.analyst_tenant_ids()",
        f"select * from {a.raw_schema}.orders",
        f"select * from {b.raw_schema}.orders",
        "insert into marts.dim_products (tenant_id, product_key) values (gen_random_uuid(), 1)",
        "delete from marts.fct_orders",
        "create table marts.mine (x int)",
        "create table public.mine (x int)",
    ]
    for statement in forbidden:
        with psycopg.connect(url) as conn:
            conn.execute("set transaction read write")  # past the read-only default
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("delete from marts.fct_orders")


def test_limits_on_the_login(database_url, shops, login_name, admin_url):
    login = login_name()
    url = grant(database_url, shops["a"], login).connection_url
    with psycopg.connect(url) as conn:
        assert conn.execute("show statement_timeout").fetchone() == ("1min",)
        assert conn.execute("show default_transaction_read_only").fetchone() == ("on",)
    with psycopg.connect(admin_url) as conn:
        (limit,) = conn.execute(
            "select rolconnlimit from pg_roles where rolname = %s", (login,)
        ).fetchone()
    assert limit == 3


def test_revocation_is_immediate_and_audited(database_url, shops, login_name):
    a, b = shops["a"], shops["b"]
    login = login_name()
    url = grant(database_url, a, login).connection_url
    again = grant(database_url, b, login)
    assert not again.created and again.password is None  # an existing login keeps its password
    with psycopg.connect(url, autocommit=True) as session:
        seen = {r[0] for r in session.execute("select distinct tenant_id from marts.fct_orders")}
        assert seen == {a.id, b.id}
        assert revoke(database_url, b, login)
        seen = {r[0] for r in session.execute("select distinct tenant_id from marts.fct_orders")}
        assert seen == {a.id}  # the same open session, its next query
        assert revoke(database_url, a, login)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            session.execute("select count(*) from marts.fct_orders")
    with pytest.raises(psycopg.OperationalError):  # the last grant took the login with it
        psycopg.connect(url)
    assert not revoke(database_url, a, login)
    with psycopg.connect(database_url) as conn:
        actions = conn.execute(
            "select action, tenant_id from app.audit_log where detail->>'login' = %s order by id",
            (login,),
        ).fetchall()
    assert actions == [
        ("analyst.granted", a.id),
        ("analyst.granted", b.id),
        ("analyst.revoked", b.id),
        ("analyst.revoked", a.id),
    ]


def test_refuses_roles_that_are_not_analyst_logins(database_url, shops, login_name, admin_url):
    plain = login_name()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"create role {plain} login")
    with pytest.raises(analysts.AnalystError, match="not an analyst login"):
        grant(database_url, shops["a"], plain)
    for bad in ("xeno_api", "pg_monitor", "Robert'); drop table x;--", "ab"):
        with pytest.raises(analysts.AnalystError):
            grant(database_url, shops["a"], bad)


def test_cli_grant_list_revoke(database_url, shops, login_name):
    a = shops["a"]
    login = login_name()
    runner = CliRunner()
    result = runner.invoke(cli, ["analyst", "grant", "--tenant", str(a.id), "--login", login])
    assert result.exit_code == 0, result.output
    url = result.output.splitlines()[0]
    assert url.startswith(f"postgresql://{login}:")
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from marts.fct_orders").fetchone()[0] > 0
    listed = runner.invoke(cli, ["analyst", "list"])
    assert listed.exit_code == 0 and f"{login:<24} {a.id}" in listed.output
    result = runner.invoke(cli, ["analyst", "revoke", "--tenant", str(a.id), "--login", login])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["analyst", "revoke", "--tenant", str(a.id), "--login", login])
    assert result.exit_code != 0 and "has no access" in result.output


def test_policies_and_grants_survive_rebuilds(database_url, shops, login_name):
    a = shops["a"]
    url = grant(database_url, a, login_name()).connection_url
    before = counts(url)
    a.build(full_refresh=True)  # replaces A's whole slice of every mart
    assert counts(url) == before
    with psycopg.connect(database_url) as conn:
        secured = conn.execute(
            "select tablename, count(*) from pg_policies where schemaname = 'marts' "
            "and policyname in ('analyst_read', 'analyst_scope') group by 1"
        ).fetchall()
    # The marts were created after the migration, by dbt: its post-hook secured them.
    assert dict(secured) == dict.fromkeys(MART_MODELS, 2)
