"""Row-level security as the second wall: the API role sees a tenant's rows only when
that tenant is set for the transaction, and every tenant-keyed table is secured."""

from __future__ import annotations

import psycopg
import pytest


@pytest.fixture
def two_tenants(register_sync, make_tenant, fill_marts):
    a, b = make_tenant(register_sync()), make_tenant(register_sync())
    fill_marts(a, days=3)
    fill_marts(b, days=5)
    return a, b


@pytest.fixture
def register_sync(api_database):
    """A user inserted directly (RLS tests need no HTTP)."""
    import uuid

    from tests.api.conftest import User

    def make() -> User:
        with psycopg.connect(api_database, autocommit=True) as conn:
            user_id = conn.execute(
                "insert into app.users (email, password_hash) values (%s, 'x') returning id",
                (f"rls-{uuid.uuid4().hex[:8]}@example.com",),
            ).fetchone()[0]
        return User(user_id, "", "", "")

    return make


def as_api(api_database: str) -> psycopg.Connection:
    conn = psycopg.connect(api_database)
    conn.execute("set role xeno_api")
    return conn


MARTS = [
    "agg_revenue_daily",
    "agg_customer_revenue_daily",
    "agg_product_revenue_daily",
    "fct_orders",
    "dim_customers",
    "dim_products",
    "dim_shops",
    "fct_abandoned_checkouts",
]


def test_api_role_is_restricted(api_database):
    with as_api(api_database) as conn:
        row = conn.execute(
            "select rolsuper, rolbypassrls from pg_roles where rolname = current_user"
        ).fetchone()
        assert row == (False, False)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select access_token_encrypted from app.tenants")


def test_marts_without_a_tenant_return_nothing(api_database, two_tenants):
    with as_api(api_database) as conn:
        for table in MARTS:
            count = conn.execute(f"select count(*) from marts.{table}").fetchone()[0]
            assert count == 0, table
        assert conn.execute("select count(*) from app.sync_runs").fetchone()[0] == 0


def test_marts_with_tenant_a_return_only_a(api_database, two_tenants):
    a, b = two_tenants
    with as_api(api_database) as conn:
        conn.execute("select set_config('app.tenant_id', %s, true)", (str(a),))
        for table in MARTS:
            tenants = conn.execute(f"select distinct tenant_id from marts.{table}").fetchall()
            assert tenants == [(a,)], table
        # writes are impossible, and even an explicit filter on B finds nothing
        assert (
            conn.execute(
                "select count(*) from marts.fct_orders where tenant_id = %s", (b,)
            ).fetchone()[0]
            == 0
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from marts.fct_orders")


def test_every_tenant_keyed_table_has_forced_rls(api_database):
    with psycopg.connect(api_database) as conn:
        rows = conn.execute(
            "select n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity "
            "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' "
            "where n.nspname in ('app', 'marts') and c.relkind in ('r', 'p') "
            "and not a.attisdropped"
        ).fetchall()
    assert {r[1] for r in rows} >= {"memberships", "sync_runs", "fct_orders", "agg_revenue_daily"}
    unsecured = [f"{r[0]}.{r[1]}" for r in rows if not (r[2] and r[3])]
    assert unsecured == []


def test_secure_tenant_table_is_idempotent(api_database):
    with psycopg.connect(api_database, autocommit=True) as conn:
        conn.execute("select app.secure_tenant_table('marts', 'fct_orders')")
        conn.execute("select app.secure_tenant_table('marts', 'fct_orders')")
        policies = conn.execute(
            "select policyname from pg_policies where schemaname = 'marts' "
            "and tablename = 'fct_orders' order by 1"
        ).fetchall()
    assert policies == [
        ("analyst_read",),  # analyst logins (migration 0020)
        ("analyst_scope",),
        ("owner_maintenance",),
        ("tenant_isolation",),
    ]
