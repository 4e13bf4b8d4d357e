"""Fixtures for the transforms: simulator stores loaded raw with dlt, then built by dbt.

Builds are expensive (a few seconds per dbt invocation): stores are built once per package.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import psycopg
import pytest

from core import tenants
from core.settings import get_settings
from simulator.shop import Shop, ShopSpec
from tests.transforms.helpers import ANCHOR, STORES, Tenant, data_dir, next_name


@pytest.fixture(scope="package", autouse=True)
def transforms_data_dir(tmp_path_factory) -> Iterator[Path]:
    """dbt target folders, dlt state and dev secrets of this package go to a temp dir."""
    with data_dir(tmp_path_factory.mktemp("transforms-data")) as path:
        yield path


@pytest.fixture(scope="package")
def make_tenant(database_url: str, transforms_data_dir: Path):
    """Factory: register a tenant (optionally with a simulated store) in the registry."""

    def make(spec: ShopSpec | None = None, *, url: str = database_url) -> Tenant:
        n = next_name()
        spec = spec and msgspec.structs.replace(spec, anchor=ANCHOR, rate_limit=False)
        domain = spec.name if spec else f"tx-bare-{n}"
        with psycopg.connect(url, autocommit=True) as conn:
            record = tenants.create(
                conn,
                name=domain,
                shop_domain=f"{domain}.myshopify.com",
                access_token="t",
                settings=get_settings(),
            )
        return Tenant(record.id, record.raw_schema, Shop(spec) if spec else None, url)

    return make


@pytest.fixture(scope="package")
def stores(make_tenant) -> dict[str, Tenant]:
    """Every store of STORES loaded and built (shared, read-only for tests)."""
    built = {}
    for key, spec in STORES.items():
        tenant = make_tenant(spec)
        tenant.load_store()
        tenant.build()
        built[key] = tenant
    return built
