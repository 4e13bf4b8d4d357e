"""Ingestion benchmark: backfill speed and memory, pacing efficiency, and the naive loader
it replaces.

Run: `uv run python -m bench.ingest [--orders 100000] [--small-orders 50000]
[--paced-seconds 60] [--baseline-seconds 30]`. Prints one JSON object per line ({"bench",
"metric", "value", "unit"}, some with a "note"). Needs the local PostgreSQL (or
TEST_ADMIN_DATABASE_URL); the simulator runs in its own process so it does not share our
GIL; everything else is the product's own code path (`run_sync`, `ShopifySession`).

Each backfill runs in a child process of its own, so its peak RSS is its own (a small and
a large store show whether memory grows with the store), and the CPU it used is measured
next to the simulator's and that of the PostgreSQL backends serving the benchmark database
(sampled from /proc, so approximate): on two cores this says where the time goes.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
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

from bench.common import free_port  # noqa: E402
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
    """A fresh migrated database (the previous run's is dropped: a 100,000-order run leaves
    over a gigabyte) and settings pointing at it and the simulator."""
    admin = os.environ.get("TEST_ADMIN_DATABASE_URL") or db.local_admin_url()
    if admin is None:
        raise SystemExit("no PostgreSQL answered on 127.0.0.1:5432")
    url = db.create_database(admin, "xeno_bench_ingest", drop_first=True)
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class BackendCpu(threading.Thread):
    """Samples the CPU of the PostgreSQL backends serving one database (approximate:
    a backend's last fraction of a second before it exits is missed)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.seen: dict[int, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            own = conn.info.backend_pid
            while not self.done.wait(0.2):
                pids = conn.execute(
                    "select pid from pg_stat_activity where datname = current_database()"
                ).fetchall()
                for (pid,) in pids:
                    with contextlib.suppress(OSError):
                        if pid != own:
                            self.seen[pid] = cpu_seconds(pid)

    def stop(self) -> float:
        self.done.set()
        self.join()
        return sum(self.seen.values())


def backfill_child_run(tenant_id: str) -> None:
    """Runs in the child: one sync, then its wall and CPU time per phase as one JSON line."""
    from ingestion.sync import run_sync

    phases: dict[str, list[float]] = {}  # phase -> [wall, cpu]
    current: list[Any] = ["plan", time.perf_counter(), time.process_time()]

    def switch(phase: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        spent = phases.setdefault(current[0], [0.0, 0.0])
        spent[0] += wall - current[1]
        spent[1] += cpu - current[2]
        current[:] = [phase, wall, cpu]

    def on_progress(event: Any) -> None:
        if event.phase != current[0]:
            switch(event.phase)

    started = time.perf_counter()
    run = run_sync(uuid.UUID(tenant_id), get_settings(), progress=on_progress)
    elapsed = time.perf_counter() - started
    switch("done")
    assert run.status == "succeeded", run.error
    times = os.times()
    print(json.dumps({"elapsed": elapsed, "phases": phases, "cpu": sum(times[:4])}), flush=True)


def backfill(url: str, shop: dict, sim_pid: int, label: str) -> float:
    """Backfill `shop` in a child process; emit its figures, return orders/s."""
    with psycopg.connect(url, autocommit=True) as conn:
        tenant = tenants.create(
            conn,
            name=label,
            shop_domain=shop["domain"],
            access_token=shop["token"],
            settings=get_settings(),
        )
    backends = BackendCpu(url)
    backends.start()
    sim_before = cpu_seconds(sim_pid)
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.ingest", "--backfill-child", str(tenant.id)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    postgres = backends.stop()
    simulator = cpu_seconds(sim_pid) - sim_before
    if child.returncode != 0:
        raise SystemExit(f"backfill of {label} failed ({child.returncode})")
    result = json.loads(output.strip().splitlines()[-1])
    elapsed = result["elapsed"]
    with psycopg.connect(url, autocommit=True) as conn:
        counts = raw_row_counts(conn, tenant.raw_schema)
    orders = counts["orders"]
    assert orders == shop["counts"]["orders"], (orders, shop["counts"])
    rows = sum(counts.values())
    bench = f"backfill_{label}"
    emit(bench, "orders", orders, "orders")
    emit(bench, "seconds", round(elapsed, 2), "s", "end to end: plan+extract+normalize+load")
    emit(bench, "orders_per_second", round(orders / elapsed), "orders/s")
    emit(bench, "rows_per_second", round(rows / elapsed), "rows/s", f"{rows} rows, all tables")
    emit(bench, "peak_rss", round(usage.ru_maxrss / 1024), "MiB", "the sync's own process")
    for phase, (wall, cpu) in result["phases"].items():
        note = f"wall; the sync process used {cpu:.1f} s CPU"
        emit(bench, f"{phase}_seconds", round(wall, 2), "s", note)
    for who, seconds in (
        ("ingestion", result["cpu"]),
        ("simulator", simulator),
        ("postgres", postgres),
    ):
        emit(bench, f"cpu_{who}", round(seconds, 1), "s", f"{1000 * seconds / orders:.2f} ms/order")
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
@click.option("--small-orders", default=50_000, show_default=True, help="second store, for memory")
@click.option("--paced-seconds", default=60.0, show_default=True)
@click.option("--baseline-seconds", default=30.0, show_default=True)
@click.option("--backfill-child", hidden=True, help="internal: run one backfill, print JSON")
def main(
    orders: int,
    small_orders: int,
    paced_seconds: float,
    baseline_seconds: float,
    backfill_child: str | None,
) -> None:
    if backfill_child:
        backfill_child_run(backfill_child)
        return
    process, api = start_simulator()
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            url = prepare_environment(api, data_dir)
            sim = httpx.Client(base_url=api, timeout=600)
            shops = {
                size: sim.post(
                    "/_sim/shops",
                    json={"name": f"bench-{size}", "orders": size, "rate_limit": False},
                )
                .raise_for_status()
                .json()
                for size in (small_orders, orders)
            }
            backfill(url, shops[small_orders], process.pid, str(small_orders))
            ours = backfill(url, shops[orders], process.pid, str(orders))
            paced(sim, shops[orders], paced_seconds)
            theirs = naive_baseline(url, api, shops[orders], baseline_seconds)
            emit(f"backfill_{orders}", "speedup_vs_baseline", round(ours / theirs, 1), "x")
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
