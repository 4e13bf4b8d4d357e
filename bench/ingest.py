"""Ingestion benchmark: the bulk backfill against the REST path it replaced, on one store.

Run: `uv run python -m bench.ingest [--orders 100000] [--large-orders 0] [--runs 2]
[--paced-seconds 15] [--no-rest]`. Prints one JSON object per line ({"bench", "metric", "value",
"unit"}, some with a "note"). Needs the local PostgreSQL (or TEST_ADMIN_DATABASE_URL); the
simulator runs in its own process so it does not share our GIL; everything else is the
product's own code path (`run_sync`: bulk operations, DuckDB flattening, dlt's Arrow load).

On the same simulated store, in the same run, backfills alternate: the bulk path
(`run_sync` of a fresh tenant) and the REST path as it was (`bench.rest_baseline`), each
in a child process of its own, so its CPU and peak RSS are its own; the simulator's CPU and
that of the PostgreSQL backends serving the benchmark database are sampled next to it
(from /proc, so approximate): on two cores this says where the time goes. Then the
flattening alone (`bench.flatten`) and the increments' pacing on Standard and Plus
(`bench.pacing`). `--large-orders 1000000` adds one bulk backfill of a larger store, to
show the sync's memory does not follow the store. Each backfill also prints its `timeline`:
when each phase began, per resource, with its bulk operation's status (what overlapped
with what).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import flatten as bench_flatten  # noqa: E402
from bench import pacing as bench_pacing  # noqa: E402
from bench import rest_baseline  # noqa: E402
from bench.common import free_port  # noqa: E402
from core import db, migrate, tenants  # noqa: E402
from core.settings import get_settings  # noqa: E402

SERVE = (
    "import sys; from simulator.server import SimConfig, serve; "
    "serve(SimConfig(shops=[], port=int(sys.argv[1])))"
)


def emit(
    bench: str, metric: str, value: float | list[str], unit: str, note: str | None = None
) -> None:
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

    timeline: list[tuple[float, str]] = []  # when each (phase, resource, bulk status) began

    def on_progress(event: Any) -> None:
        if event.phase != current[0]:
            switch(event.phase)
        step = " ".join(filter(None, (event.phase, event.resource, event.bulk_status)))
        if not timeline or timeline[-1][1] != step:
            timeline.append((event.elapsed, step))

    started = time.perf_counter()
    run = run_sync(uuid.UUID(tenant_id), get_settings(), progress=on_progress)
    elapsed = time.perf_counter() - started
    switch("done")
    assert run.status == "succeeded", run.error
    times = os.times()
    # a waited-for child's peak covers its own children too: each is read where it is known
    own_rss, children_rss = (
        resource.getrusage(who).ru_maxrss / 1024
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    steps = [f"{at:.1f}s {step}" for at, step in timeline]
    figures = {"elapsed": elapsed, "phases": phases, "cpu": sum(times[:4]), "timeline": steps}
    print(json.dumps(figures | {"own_rss": own_rss, "rss": children_rss}), flush=True)


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
    child.wait()
    postgres = backends.stop()
    simulator = cpu_seconds(sim_pid) - sim_before
    if child.returncode != 0:
        raise SystemExit(f"backfill of {label} failed ({child.returncode})")
    result = json.loads(output.strip().splitlines()[-1])
    elapsed = result["elapsed"]
    with psycopg.connect(url, autocommit=True) as conn:
        counts = raw_row_counts(conn, tenant.raw_schema)
        # the next backfill connects the same store afresh (and a store's raw tables of a
        # million orders fill gigabytes)
        for schema in (tenant.raw_schema, f"{tenant.raw_schema}_staging"):
            conn.execute(f'drop schema if exists "{schema}" cascade')
        conn.execute("delete from app.tenants where id = %s", (tenant.id,))
    orders = counts["orders"]
    assert orders == shop["counts"]["orders"], (orders, shop["counts"])
    rows = sum(counts.values())
    bench = f"backfill_{label}"
    emit(bench, "orders", orders, "orders")
    emit(bench, "seconds", round(elapsed, 2), "s", "end to end: bulk, download, flatten, load")
    emit(bench, "orders_per_second", round(orders / elapsed), "orders/s")
    emit(bench, "rows_per_second", round(rows / elapsed), "rows/s", f"{rows} rows, all tables")
    emit(bench, "peak_rss", round(result["own_rss"]), "MiB", "the sync's own process")
    emit(bench, "flatten_peak_rss", round(result["rss"]), "MiB", "its DuckDB child process")
    emit(bench, "cpu_ms_per_order", round(1000 * result["cpu"] / orders, 3), "ms/order")
    for phase, (wall, cpu) in result["phases"].items():
        note = f"wall; the sync process used {cpu:.1f} s CPU"
        emit(bench, f"{phase}_seconds", round(wall, 2), "s", note)
    emit(bench, "timeline", result["timeline"], "steps", "seconds since start: phase, resource")
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


def new_shop(sim: httpx.Client, name: str, orders: int, **spec: Any) -> dict:
    body = {"name": name, "orders": orders, "rate_limit": False, **spec}
    return sim.post("/_sim/shops", json=body).raise_for_status().json()


def rest_backfill(url: str, api: str, shop: dict, sim_pid: int) -> float:
    """The REST path on the same store; emit its figures, return orders/s."""
    sim_before = cpu_seconds(sim_pid)
    figures = rest_baseline.measure(url, api, shop)
    simulator = cpu_seconds(sim_pid) - sim_before
    bench = f"rest_{figures['orders']}"
    for name, value in figures.items():
        emit(bench, name, value, rest_baseline.UNITS[name])
    emit(bench, "cpu_simulator", round(simulator, 1), "s")
    return float(figures["orders_per_second"])


def flatten_alone(orders: int) -> None:
    """DuckDB flattening of an orders JSONL file, without the store or the database."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.jsonl"
        bench_flatten.write_orders(orders, path)
        result = subprocess.run(
            [sys.executable, "-m", "bench.flatten", "--file", str(path), "--measure-only"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    emit("flatten", "orders", figures["orders"], "orders")
    emit("flatten", "orders_per_second", figures["flatten_orders_per_second"], "orders/s")
    emit("flatten", "cpu_ms_per_order", figures["flatten_cpu_ms_per_order"], "ms/order")
    emit("flatten", "peak_rss", figures["duckdb_process_peak_rss_mib"], "MiB")


def pacing(sim: httpx.Client, api: str, seconds: float) -> None:
    """Increments' pages on Standard and Plus: restore rate used, THROTTLED after drain."""
    from core.settings import load_settings
    from ingestion.graphql import ShopifyGraphQL
    from ingestion.queries import ORDERS

    settings = load_settings({"SHOPIFY_ENDPOINT_TEMPLATE": f"{api}/{{shop}}"})
    for plan in ("standard", "plus"):
        shop = new_shop(sim, f"bench-pacing-{plan}", 3_000, plan=plan, rate_limit=True)
        with ShopifyGraphQL(shop["domain"], shop["token"], settings) as client:
            page_size = client.page_size(ORDERS)
            result = bench_pacing.measure(client, ORDERS, page_size, seconds)
        bench = f"pacing_{plan}"
        note = f"{result.points} points charged at {result.restore_rate:g} points/s"
        emit(bench, "restore_rate_used", round(100 * result.restore_share, 1), "%", note)
        emit(bench, "throttled_after_first_drain", result.throttled_after_drain, "THROTTLED")


@click.command()
@click.option("--orders", default=100_000, show_default=True)
@click.option("--large-orders", default=0, show_default=True, help="a bulk-only memory check")
@click.option("--runs", default=2, show_default=True, help="bulk backfills, REST between them")
@click.option("--paced-seconds", default=15.0, show_default=True)
@click.option("--rest/--no-rest", default=True, help="the REST baseline and the speedup over it")
@click.option("--backfill-child", hidden=True, help="internal: run one backfill, print JSON")
def main(
    orders: int,
    large_orders: int,
    runs: int,
    paced_seconds: float,
    rest: bool,
    backfill_child: str | None,
) -> None:
    if backfill_child:
        backfill_child_run(backfill_child)
        return
    process, api = start_simulator()
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            url = prepare_environment(api, data_dir)
            sim = httpx.Client(base_url=api, timeout=3600)
            shop = new_shop(sim, f"bench-{orders}", orders)
            bulk, rest_rates = [], []
            for run in range(runs):
                bulk.append(backfill(url, shop, process.pid, f"{orders}_bulk_{run + 1}"))
                if rest and (run < runs - 1 or runs == 1):
                    rest_rates.append(rest_backfill(url, api, shop, process.pid))
            if rest_rates:
                ratio = (sum(bulk) / len(bulk)) / (sum(rest_rates) / len(rest_rates))
                emit(f"backfill_{orders}", "speedup_vs_rest", round(ratio, 1), "x", "same run")
            if large_orders:
                large = new_shop(sim, f"bench-{large_orders}", large_orders)
                backfill(url, large, process.pid, f"{large_orders}_bulk")
            flatten_alone(orders)
            pacing(sim, api, paced_seconds)
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
