"""Fixtures of the analyst tests: two tenants with real marts built by dbt from simulated
stores, and analyst logins that are dropped at the end (roles are cluster-wide)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from core import tenants
from core.settings import get_settings
from simulator.shop import Shop, ShopSpec
from tests.transforms.helpers import ANCHOR, Tenant, data_dir


@pytest.fixture(scope="package", autouse=True)
def analysts_data_dir(tmp_path_factory) -> Iterator[Path]:
    """dbt target folders, dlt state and dev secrets of this package go to a temp dir."""
    with data_dir(tmp_path_factory.mktemp("analysts-data")) as path:
        yield path


@pytest.fixture(scope="package")
def analyst_role(admin_url: str) -> None:
    """The group role, made with the admin URL (a server's `xeno` may lack CREATEROLE)."""
    with (
        psycopg.connect(admin_url, autocommit=True) as conn,
        contextlib.suppress(psycopg.errors.DuplicateObject),
    ):
        conn.execute("create role xeno_analyst nologin nosuperuser nobypassrls")


@pytest.fixture(scope="package")
def shops(database_url: str, analyst_role: None, analysts_data_dir: Path) -> dict[str, Tenant]:
    """Tenants A and B, each with a small simulated store loaded and built."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select app.ensure_analyst_role()")
    built = {}
    for key, seed in (("a", 101), ("b", 202)):
        name = f"an-{key}-{uuid.uuid4().hex[:6]}"
        spec = ShopSpec(name=name, seed=seed, orders=120, days=60, anchor=ANCHOR, rate_limit=False)
        with psycopg.connect(database_url, autocommit=True) as conn:
            record = tenants.create(
                conn,
                name=name,
                shop_domain=f"{name}.myshopify.com",
                access_token="t",
                settings=get_settings(),
            )
        tenant = Tenant(record.id, record.raw_schema, Shop(spec), database_url)
        tenant.load_store()
        tenant.build()
        built[key] = tenant
    return built


@pytest.fixture
def login_name(admin_url: str) -> Iterator[Callable[[], str]]:
    """Unique analyst login names; their roles are dropped after the test."""
    names: list[str] = []

    def make() -> str:
        names.append(f"analyst_{uuid.uuid4().hex[:10]}")
        return names[-1]

    yield make
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))
