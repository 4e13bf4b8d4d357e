"""Webhook fixtures: the session database (with marts and the API role), the simulator,
and `xeno api` servers run as subprocesses on free ports, as Shopify would reach them,
and `xeno worker` processes that apply what they store.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from api.webhooks.verify import signature
from core import tenants
from core.settings import get_settings
from tests.api.conftest import PASSWORD, ensure_api_role
from tests.ingestion.conftest import Simulator, ingestion_env, sim, simulator_url

__all__ = ["ingestion_env", "sim", "simulator_url"]

SERVER_ENV = {
    "XENO_ENV": "test",
    "JWT_SECRET": "webhook-tests-" + "x" * 40,
    "AUTH_RATE_LIMIT_PER_MINUTE": "100000",
    "SHOPIFY_MAX_RETRIES": "0",
    "DB_POOL_MAX": "20",
    "LOG_LEVEL": "WARNING",
}


@pytest.fixture(scope="session")
def wh_database(database_url: str, admin_url: str, ingestion_env: dict) -> str:
    """The session database with the API role's grants and empty mart tables."""
    from dbt_project.runner import ensure_marts

    ensure_api_role(admin_url)
    ensure_marts(get_settings().on_database(database_url))
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select app.ensure_api_role()")
        conn.execute("select app.grant_webhook_access()")
        conn.execute("grant execute on function app.owner_access_token(uuid, uuid) to xeno_api")
    return database_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Child:
    """A running `xeno` subprocess."""

    process: subprocess.Popen

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Server(Child):
    """A running `xeno api` process."""

    url: str


def start_server(port: int | None = None, **env: str) -> Server:
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "api", "--port", str(port)],
        env={**os.environ, **SERVER_ENV, "BASE_URL": url, **env},
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return Server(process, url)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the API server did not start")


# A test worker looks for work often and leaves tenants unsynced unless asked.
WORKER_ENV = {"WORKER_POLL_SECONDS": "0.2", "WORKER_FIRST_SYNCS": "false", "LOG_LEVEL": "INFO"}


def start_worker(log: Path | None = None, **env: str) -> Child:
    """`xeno worker` on the session database; its log in `log` (else discarded)."""
    # the child gets a descriptor of its own: this process's copy closes once it started
    with log.open("ab") if log else contextlib.nullcontext(subprocess.DEVNULL) as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "core.cli", "worker"],
            env={**os.environ, **SERVER_ENV, **WORKER_ENV, **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return Child(process)


@pytest.fixture
def worker_factory(wh_database: str, tmp_path: Path) -> Iterator[Callable[..., Child]]:
    started: list[Child] = []

    def make(**env: str) -> Child:
        started.append(start_worker(tmp_path / f"worker-{len(started)}.log", **env))
        return started[-1]

    yield make
    for worker in started:
        worker.stop()


@pytest.fixture
def server_factory(wh_database: str) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def make(**env: str) -> Server:
        server = start_server(**env)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def server(wh_database: str) -> Iterator[Server]:
    """A shared receiver (the API only stores: tests apply events themselves)."""
    server = start_server()
    yield server
    server.stop()


@dataclass
class Shop:
    """A simulated shop connected as a tenant, and how to sign as it."""

    info: dict
    tenant: tenants.Tenant

    @property
    def domain(self) -> str:
        return self.info["domain"]

    def headers(self, body: bytes, topic: str, webhook_id: str | None = None) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": signature(self.info["webhook_secret"], body),
            "X-Shopify-Shop-Domain": self.domain,
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        }


@pytest.fixture
def make_shop(sim: Simulator, wh_database: str) -> Iterator[Callable[..., Shop]]:
    """Shops as tenants, erased afterwards (a worker in a later test applies every
    tenant's pending events: it must not inherit thousands from this one)."""
    made: list[Shop] = []

    def make(**spec: object) -> Shop:
        info = sim.shop(rate_limit=False, **{"orders": 5, **spec})
        with psycopg.connect(wh_database, autocommit=True) as conn:
            tenant = tenants.create(
                conn,
                name=info["name"],
                shop_domain=info["domain"],
                access_token=info["token"],
                webhook_secret=info["webhook_secret"],
                settings=get_settings(),
            )
        made.append(Shop(info, tenant))
        return made[-1]

    yield make
    with psycopg.connect(wh_database, autocommit=True) as conn:
        for shop in made:
            conn.execute("select app.erase_tenant(%s)", (shop.tenant.id,))


def stored(conn: psycopg.Connection, tenant_id: uuid.UUID, where: str = "true") -> int:
    row = conn.execute(
        f"select count(*) from app.webhook_events where tenant_id = %s and {where}", (tenant_id,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def register_owner(url: str) -> tuple[dict[str, str], uuid.UUID]:
    """A new user through the API: (auth headers, user id)."""
    email = f"owner-{uuid.uuid4().hex[:10]}@example.com"
    response = httpx.post(f"{url}/api/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    body = response.json()
    return {"Authorization": f"Bearer {body['token']}"}, uuid.UUID(body["user"]["id"])
