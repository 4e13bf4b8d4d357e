"""Ingestion benchmark: backfill speed, pacing efficiency, and the naive loader it replaces.

Run: `uv run python -m bench.ingest [--orders 100000] [--paced-seconds 60]
[--baseline-seconds 30]`. Prints one JSON object per line ({"bench", "metric", "value",
"unit"}, some with a "note"). Needs the local PostgreSQL (or TEST_ADMIN_DATABASE_URL); the
simulator runs in its own process so it does not share our GIL; everything else is the
product's own code path (`run_sync`, `ShopifySession`).
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import click
import httpx
import psycopg
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import db, migrate, tenants  # noqa: E402
from core.settings import get_settings  # noqa: E402

SERVE = (
    "import sys; from simulator.server import SimConfig, serve; "
    "serve(SimConfig(shops=[], port=int(sys.argv[1])))"
)


def emit(bench: str, metric: str, value: float, unit: str, note: str | None = None) -> None:
    line: dict[str, Any] = {"bench": bench, "metric": metric, "value": value, "unit": unit}
    if note:
        line["note"] = note
    print(json.dumps(line), flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_simulator() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVE, str(port)], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{url}/_sim/shops", timeout=1).raise_for_status()
            return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("simulator did not start")


def prepare_environment(sim_url: str, data_dir: str) -> str:
    """A fresh migrated database and settings pointing at it and the simulator."""
    admin = os.environ.get("TEST_ADMIN_DATABASE_URL") or db.local_admin_url()
    if admin is None:
        raise SystemExit("no PostgreSQL answered on 127.0.0.1:5432")
    url = db.create_database(admin, f"xeno_bench_{uuid.uuid4().hex[:8]}")
    migrate.upgrade(url)
    os.environ.update(
        {
            "DATABASE_URL": url,
            "SHOPIFY_ENDPOINT_TEMPLATE": f"{sim_url}/{{shop}}",
            "DATA_DIR": data_dir,
            "XENO_ENV": "test",
        }
    )
    get_settings.cache_clear()
    return url


def backfill(sim: httpx.Client, url: str, shop: dict) -> float:
    from ingestion.sync import run_sync

    with psycopg.connect(url, autocommit=True) as conn:
        tenant = tenants.create(
            conn, name="bench", shop_domain=shop["domain"], access_token=shop["token"]
        )
    started = time.perf_counter()
    run = run_sync(tenant.id)
    elapsed = time.perf_counter() - started
    assert run.status == "succeeded", run.error
    with psycopg.connect(url, autocommit=True) as conn:
        counts = raw_row_counts(conn, tenant.raw_schema)
    orders = counts["orders"]
    assert orders == shop["counts"]["orders"], (orders, shop["counts"])
    rows = sum(counts.values())
    emit("backfill", "orders", orders, "orders")
    emit("backfill", "seconds", round(elapsed, 2), "s", "end to end: plan+extract+normalize+load")
    emit("backfill", "orders_per_second", round(orders / elapsed), "orders/s")
    emit("backfill", "rows_per_second", round(rows / elapsed), "rows/s", f"{rows} rows, all tables")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    emit("backfill", "peak_rss", round(peak), "MiB", f"largest child process {children:.0f} MiB")
    return orders / elapsed


def raw_row_counts(conn: psycopg.Connection, schema: str) -> dict[str, int]:
    """Exact rows of every data table in a raw schema (dlt's own tables excluded)."""
    tables = conn.execute(
        "select table_name from information_schema.tables where table_schema = %s "
        "and table_name not like '\\_dlt%%'",
        (schema,),
    ).fetchall()
    return {
        name: conn.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
        for (name,) in tables
    }


def paced(sim: httpx.Client, shop: dict, seconds: float) -> None:
    """Page through orders for `seconds` with Shopify's standard limit (40, 2/s)."""
    from ingestion.client import connect

    sim.put(
        f"/_sim/{shop['domain']}/rate_limit",
        json={"enabled": True, "bucket": 40, "leak_per_second": 2.0},
    ).raise_for_status()
    client = connect(shop["domain"], shop["token"])
    pacer = client.pacer
    drained_at: int | None = None
    throttled_before_drain = 0
    started = time.perf_counter()
    pages = client.paginate(
        "orders.json", params={"status": "any", "limit": 250}, data_selector="orders"
    )
    for _ in pages:
        if drained_at is None and pacer.stats.used >= pacer.stats.capacity - 2:
            drained_at, throttled_before_drain = pacer.stats.requests, pacer.stats.throttled
        if time.perf_counter() - started >= seconds:
            break
    elapsed = time.perf_counter() - started
    budget = 40 + 2.0 * elapsed  # a full bucket at the start, then the leak
    emit("paced", "window", round(elapsed, 1), "s")
    emit("paced", "requests", pacer.stats.requests, "requests")
    used = round(100 * pacer.stats.requests / budget, 1)
    emit("paced", "budget_used", used, "%", "requests / (bucket 40 + 2/s x window)")
    late_429s = pacer.stats.throttled - throttled_before_drain
    emit("paced", "throttled_after_first_drain", late_429s, "429s", f"drained at {drained_at}")
    sim.put(f"/_sim/{shop['domain']}/rate_limit", json={"enabled": False}).raise_for_status()


def naive_baseline(url: str, api: str, shop: dict, seconds: float) -> float:
    """The original service's loader: pages of 50, 500 ms sleep, one upsert per row."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema if not exists naive")
        conn.execute(
            "create table if not exists naive.orders "
            "(id bigint primary key, updated_at text, body jsonb)"
        )
        loaded = 0
        started = time.perf_counter()
        next_url: str | None = f"{api}/{shop['domain']}/admin/api/2024-10/orders.json"
        params: dict[str, Any] | None = {"status": "any", "limit": 50}
        with httpx.Client(headers={"X-Shopify-Access-Token": shop["token"]}) as http:
            while next_url and time.perf_counter() - started < seconds:
                response = http.get(next_url, params=params)
                response.raise_for_status()
                for order in response.json()["orders"]:
                    conn.execute(
                        "insert into naive.orders (id, updated_at, body) values (%s, %s, %s) "
                        "on conflict (id) do update set updated_at = excluded.updated_at, "
                        "body = excluded.body",
                        (order["id"], order["updated_at"], Jsonb(order)),
                    )
                    loaded += 1
                next_url, params = response.links.get("next", {}).get("url"), None
                time.sleep(0.5)
        elapsed = time.perf_counter() - started
    rate = loaded / elapsed
    note = f"naive loader bounded to {elapsed:.0f} s ({loaded} orders), rate extrapolated"
    emit("baseline", "orders_per_second", round(rate, 1), "orders/s", note)
    emit("baseline", "extrapolated_backfill", round(shop["counts"]["orders"] / rate), "s")
    return rate


@click.command()
@click.option("--orders", default=100_000, show_default=True)
@click.option("--paced-seconds", default=60.0, show_default=True)
@click.option("--baseline-seconds", default=30.0, show_default=True)
def main(orders: int, paced_seconds: float, baseline_seconds: float) -> None:
    process, api = start_simulator()
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            url = prepare_environment(api, data_dir)
            sim = httpx.Client(base_url=api, timeout=600)
            spec = {"name": "bench-store", "orders": orders, "rate_limit": False}
            shop = sim.post("/_sim/shops", json=spec).raise_for_status().json()
            ours = backfill(sim, url, shop)
            paced(sim, shop, paced_seconds)
            theirs = naive_baseline(url, api, shop, baseline_seconds)
            emit("backfill", "speedup_vs_baseline", round(ours / theirs, 1), "x")
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
