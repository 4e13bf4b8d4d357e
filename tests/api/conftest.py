"""API test fixtures: a database of their own with real (dbt-created) mart tables, an
in-process Shopify simulator for token checks, and an app per test on AsyncTestClient.

The API acts as `xeno_api`; the role is cluster-wide, so it is created once here with the
admin URL (a development server's `xeno` role may lack CREATEROLE).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import psycopg
import pytest
from litestar.testing import AsyncTestClient
from psycopg.types.json import Jsonb

from api.app import create_app
from core import migrate, tenants
from core.settings import Settings, get_settings, load_settings
from simulator.server import RunningSimulator, SimConfig, run_in_thread
from simulator.shop import ShopSpec

PASSWORD = "correct horse battery"
SIM_SHOPS = ("alpha", "beta", "gamma", "delta")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def ensure_api_role(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        with contextlib.suppress(psycopg.errors.DuplicateObject):
            conn.execute("create role xeno_api nologin nosuperuser nobypassrls")
        conn.execute("grant xeno_api to xeno")


@pytest.fixture(scope="session")
def api_database(make_database, admin_url) -> str:
    """A migrated database with empty mart tables, secured for the API role."""
    from dbt_project.runner import ensure_marts

    url = make_database()
    ensure_api_role(admin_url)
    migrate.upgrade(url)
    ensure_marts(get_settings().on_database(url))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select app.ensure_api_role()")
    return url


@pytest.fixture(scope="session")
def simulator() -> Iterator[RunningSimulator]:
    shops = [ShopSpec(name=name, orders=20, days=30) for name in SIM_SHOPS]
    with run_in_thread(SimConfig(shops=shops, port=0, rate_limit=False)) as sim:
        yield sim


def make_settings(database_url: str, simulator: RunningSimulator, **extra: str) -> Settings:
    return load_settings(
        {
            "XENO_ENV": "test",
            "DATABASE_URL": database_url,
            "SHOPIFY_ENDPOINT_TEMPLATE": simulator.endpoint_template,
            "SHOPIFY_MAX_RETRIES": "0",
            "AUTH_RATE_LIMIT_PER_MINUTE": "10000",
            "JWT_SECRET": "test-secret-" + "x" * 52,  # 64 bytes: enough for HS512 forgeries
            **extra,
        }
    )


@pytest.fixture(scope="session")
def settings(api_database, simulator) -> Settings:
    return make_settings(api_database, simulator)


@pytest.fixture
async def client(settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


@dataclass
class User:
    id: uuid.UUID
    email: str
    token: str
    refresh_token: str

    def headers(self, tenant: uuid.UUID | str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if tenant is not None:
            headers["x-tenant-id"] = str(tenant)
        return headers


@pytest.fixture
def register(client):
    async def register(prefix: str = "user") -> User:
        email = f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"
        response = await client.post(
            "/api/auth/register", json={"email": email, "password": PASSWORD}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return User(uuid.UUID(body["user"]["id"]), email, body["token"], body["refreshToken"])

    return register


@pytest.fixture
def make_tenant(api_database):
    """A tenant created directly in the registry (no store check), with members."""

    def make(owner: User, **members: str) -> uuid.UUID:
        with psycopg.connect(api_database, autocommit=True) as conn:
            tenant = tenants.create(
                conn,
                name=f"shop {uuid.uuid4().hex[:6]}",
                shop_domain=f"t-{uuid.uuid4().hex[:12]}.myshopify.com",
                access_token="shpat_test",
                owner_id=owner.id,
                settings=get_settings(),
            )
            for user_id, role in members.items():
                tenants.add_member(conn, tenant.id, uuid.UUID(user_id), role)
        return tenant.id

    return make


END = date(2024, 6, 30)


@pytest.fixture
def fill_marts(api_database):
    """Mart rows for a tenant: `days` days ending END, n orders of 10.50 each per day."""

    def fill(tenant_id: uuid.UUID, *, days: int = 10, orders_per_day: int = 2) -> None:
        with psycopg.connect(api_database, autocommit=True) as conn:
            conn.execute(
                "insert into marts.dim_shops (tenant_id, currency, iana_timezone) "
                "values (%s, 'EUR', 'Europe/Berlin')",
                (tenant_id,),
            )
            for i in range(days):
                day = END - timedelta(days=i)
                revenue = orders_per_day * 10.5
                conn.execute(
                    "insert into marts.agg_revenue_daily (tenant_id, date, order_count, "
                    "new_customer_count, total_revenue, net_revenue) "
                    "values (%s, %s, %s, 1, %s, %s)",
                    (tenant_id, day, orders_per_day, revenue, revenue),
                )
                conn.execute(
                    "insert into marts.agg_customer_revenue_daily (tenant_id, customer_id, "
                    "order_date, order_count, total_revenue, net_revenue) "
                    "values (%s, %s, %s, %s, %s, %s)",
                    (tenant_id, 1000 + i, day, orders_per_day, revenue, revenue),
                )
                conn.execute(
                    "insert into marts.agg_product_revenue_daily (tenant_id, product_key, "
                    "order_date, order_count, quantity, revenue) values (%s, %s, %s, %s, %s, %s)",
                    (tenant_id, 1 + i % 3, day, orders_per_day, orders_per_day, revenue),
                )
                for n in range(orders_per_day):
                    conn.execute(
                        "insert into marts.fct_orders (tenant_id, order_id, order_name, "
                        "customer_id, created_at, order_date, is_test, is_cancelled, is_counted, "
                        "line_count, item_quantity, subtotal_price, discounts, tax, total_revenue, "
                        "refunds, net_revenue) values (%s, %s, %s, %s, %s, %s, false, false, "
                        "true, 1, 1, 10, 0, 0.5, 10.5, 0, 10.5)",
                        (tenant_id, i * 100 + n, f"#{i * 100 + n}", 1000 + i, day, day),
                    )
                conn.execute(
                    "insert into marts.dim_customers (tenant_id, customer_id, email, first_name, "
                    "last_name, orders_count, lifetime_spend) "
                    "values (%s, %s, %s, 'Ada', %s, %s, %s)",
                    (
                        tenant_id,
                        1000 + i,
                        f"c{i}@{tenant_id.hex[:8]}.test",
                        f"L{i}",
                        orders_per_day,
                        revenue,
                    ),
                )
                conn.execute(
                    "insert into marts.fct_abandoned_checkouts (tenant_id, checkout_id, "
                    "created_at, created_date, abandoned_at, is_abandoned, is_recovered, email, "
                    "customer_id, customer_email, customer_first_name, customer_last_name, cart) "
                    "values (%s, %s, %s, %s, %s, true, false, %s, %s, %s, 'Ada', 'L', %s)",
                    (
                        tenant_id,
                        5000 + i,
                        day,
                        day,
                        day,
                        f"c{i}@x.test",
                        1000 + i,
                        f"c{i}@x.test",
                        Jsonb([{"title": "Mug", "quantity": 1}]),
                    ),
                )
            for key in (1, 2, 3):
                conn.execute(
                    "insert into marts.dim_products (tenant_id, product_key, product_id, title, "
                    "variant_count, is_listed, is_custom) values (%s, %s, %s, %s, 1, true, false)",
                    (tenant_id, key, key, f"Product {key}"),
                )

    return fill
