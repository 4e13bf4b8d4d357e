"""Ingestion fixtures: a real Shopify simulator over HTTP and the session's PostgreSQL.

One simulator serves the whole session; every test creates its own shops (unique names)
and tenants, so tests never share data. Settings point the product at the simulator, at a
temporary dlt working folder and at fast retry pacing (tests about pacing set their own).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from cryptography.fernet import Fernet

from core import tenants
from core.settings import Settings, get_settings
from simulator.server import SimConfig, run_in_thread


@pytest.fixture(scope="session")
def simulator_url() -> Iterator[str]:
    """The simulator on a free local port, in a background thread, without shops."""
    with run_in_thread(SimConfig(shops=[], port=0)) as running:
        yield running.base_url


ENV = {
    "SHOPIFY_RETRY_BACKOFF_MS": "20",
    "SHOPIFY_MAX_RETRIES": "8",
    "SHOPIFY_TIMEOUT_SECONDS": "5",
    "SYNC_LOOKBACK_SECONDS": "300",
    "XENO_ENV": "test",
}


@pytest.fixture(scope="session")
def ingestion_env(database_url: str, simulator_url: str, tmp_path_factory) -> Iterator[dict]:
    """Environment (also inherited by `xeno` subprocesses) pointing at the simulator."""
    env = {
        **ENV,
        "SHOPIFY_ENDPOINT_TEMPLATE": f"{simulator_url}/{{shop}}",
        "DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    previous = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    get_settings.cache_clear()
    yield env
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    get_settings.cache_clear()


class Simulator:
    """The simulator's `/_sim/` control surface."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=120)

    def shop(self, **spec: Any) -> dict:
        """Create a shop (unique name unless given) and return its `/_sim/shops` entry."""
        spec.setdefault("name", f"t-{uuid.uuid4().hex[:10]}")
        response = self.http.post("/_sim/shops", json=spec)
        response.raise_for_status()
        return response.json()

    def truth(self, domain: str) -> dict:
        return self._ok(self.http.get(f"/_sim/{domain}/truth"))

    def count(self, shop: dict, path: str, **params: Any) -> int:
        response = self.http.get(
            f"/{shop['domain']}/admin/api/2024-10/{path}",
            params=params,
            headers={"X-Shopify-Access-Token": shop["token"]},
        )
        return int(self._ok(response)["count"])

    def records(self, shop: dict, resource: str, **params: Any) -> list[dict]:
        """Every record of a list endpoint, following `Link` cursors like a client."""
        url: str | None = f"/{shop['domain']}/admin/api/2024-10/{resource}.json"
        query: dict[str, Any] | None = {"limit": 250, **params}
        found: list[dict] = []
        while url:
            response = self.http.get(
                url, params=query, headers={"X-Shopify-Access-Token": shop["token"]}
            )
            found += self._ok(response)[resource]
            url, query = response.links.get("next", {}).get("url"), None
        return found

    def configure(self, domain: str, name: str, **config: Any) -> dict:
        return self._ok(self.http.put(f"/_sim/{domain}/{name}", json=config))

    def create(self, domain: str, resource: str, body: dict) -> dict:
        return self._ok(self.http.post(f"/_sim/{domain}/{resource}", json=body))

    def update(self, domain: str, resource: str, rid: int, body: dict) -> dict:
        return self._ok(self.http.put(f"/_sim/{domain}/{resource}/{rid}", json=body))

    def delete(self, domain: str, resource: str, rid: int) -> None:
        self._ok(self.http.delete(f"/_sim/{domain}/{resource}/{rid}"))

    @staticmethod
    def _ok(response: httpx.Response) -> Any:
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def sim(simulator_url: str) -> Iterator[Simulator]:
    simulator = Simulator(simulator_url)
    yield simulator
    simulator.http.close()


@pytest.fixture
def make_tenant(ingestion_env: dict, conn: psycopg.Connection) -> Callable[..., tenants.Tenant]:
    """Register a simulated shop as a tenant (straight into the registry)."""

    def make(shop: dict, token: str | None = None) -> tenants.Tenant:
        return tenants.create(
            conn,
            name=shop["name"],
            shop_domain=shop["domain"],
            access_token=token or shop["token"],
            webhook_secret=shop["webhook_secret"],
            settings=get_settings(),
        )

    return make


def raw_count(
    conn: psycopg.Connection, schema: str, table: str, where: str = "true", *, distinct: str = ""
) -> int:
    """Rows (or distinct values of a column) of a raw table; 0 if dlt never created it."""
    if not conn.execute(
        "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
        (schema, table),
    ).fetchone():
        return 0
    what = f"distinct {distinct}" if distinct else "*"
    row = conn.execute(f'select count({what}) from "{schema}"."{table}" where {where}').fetchone()
    assert row is not None
    return int(row[0])


def shopify_settings(settings: Settings, **changes: Any) -> Settings:
    """`settings` with some of its Shopify group changed (e.g. faster bulk polls)."""
    return settings.model_copy(update={"shopify": settings.shopify.model_copy(update=changes)})
