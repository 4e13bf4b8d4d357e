"""Benchmark of the analyst snapshot (`xeno export`): one tenant's marts to a DuckDB file.

For each size: a tenant's raw data generated set-based in SQL (bench.transform's
generator), its marts built by dbt, then the export run in a child process of its own:
seconds, rows/s, file size, and memory (the child's peak RSS, its RSS before the export,
and its peak during the export alone: flat as the tenant grows is the goal); then one
analyst query on the snapshot in DuckDB against the same query on PostgreSQL, same run,
answers compared.

    uv run python -m bench.export [--orders 5000,20000]

Prints JSON lines {"bench": "export", "orders": N, "metric": ..., "value": ..., "unit": ...}.
Do not run a 1,000,000-order size on a shared machine: the dbt build alone takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import redirect_stdout
from pathlib import Path

import duckdb
import psycopg

from bench.transform import generate
from core import db, migrate, tenants
from core.settings import get_settings
from dbt_project import runner
from dbt_project.export import export_tenant

# Monthly counted orders and revenue, and the ten best-selling products: what an analyst
# asks first. `{orders}` / `{lines}` are the tables; `{where}` scopes PostgreSQL's.
QUERY = """
select m.month, m.orders, m.net_revenue, p.top_products
from (
    select cast(date_trunc('month', order_date) as date) as month, count(*) as orders,
        sum(net_revenue) as net_revenue
    from {orders} where is_counted {where} group by 1
) m cross join (
    select string_agg(product_key::text, ',' order by revenue desc, product_key) as top_products
    from (
        select product_key, sum(net_amount) as revenue from {lines}
        where is_counted {where} group by 1 order by 2 desc, 1 limit 10
    ) t
) p
order by m.month
"""
REPEATS = 5


def emit(orders: int, metric: str, value: float | int, unit: str) -> None:
    line = {"bench": "export", "orders": orders, "metric": metric, "value": value, "unit": unit}
    print(json.dumps(line), flush=True)


def child_export(tenant_id: str, out: str, url: str) -> None:
    """The export alone in this process (bench child): prints its result as JSON."""
    before = _status_kib("VmRSS")  # the imports: dbt (the runner's mart list), DuckDB, ...
    # Reset the process's peak RSS (Linux), so VmHWM afterwards is the export's own peak.
    Path("/proc/self/clear_refs").write_text("5")
    result = export_tenant(uuid.UUID(tenant_id), Path(out), url=url)
    summary = {"rows": sum(result.rows.values()), "seconds": result.seconds}
    print(json.dumps({**summary, "rss": before, "export_peak": _status_kib("VmHWM")}))


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} missing from /proc/self/status")


def timed_median(run) -> tuple[float, object]:
    times, answer = [], None
    for _ in range(REPEATS):
        started = time.perf_counter()
        answer = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), answer


def one_size(url: str, orders: int, folder: Path) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        tenant = tenants.create(
            conn,
            name=f"bench {orders}",
            shop_domain=f"bench-export-{orders}.myshopify.com",
            access_token="bench",  # noqa: S106 - never used: no store is called
            settings=get_settings(),
        )
    with psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        generate(conn, tenant.raw_schema, orders)
        conn.execute("vacuum analyze")
    with redirect_stdout(sys.stderr):  # dbt's log: stdout stays JSON lines
        built = runner.build_tenant(get_settings().on_database(url), tenant.id, tenant.raw_schema)
    assert built.success, built.failures
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze")

    out = folder / f"tenant-{orders}.duckdb"
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.export", "--child", str(tenant.id), str(out), url],
        stdout=subprocess.PIPE,
    )
    assert child.stdout is not None
    report = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    assert status == 0, "export failed"
    result = json.loads(report.decode().strip().splitlines()[-1])
    emit(orders, "export_seconds", round(result["seconds"], 2), "s")
    emit(orders, "rows", result["rows"], "count")
    emit(orders, "rows_per_second", round(result["rows"] / result["seconds"]), "rows/s")
    emit(orders, "peak_rss", round(usage.ru_maxrss / 1024, 1), "MiB")  # Linux: KiB
    emit(orders, "rss_before_export", round(result["rss"] / 1024, 1), "MiB")
    emit(orders, "peak_rss_during_export", round(result["export_peak"] / 1024, 1), "MiB")
    emit(orders, "file_size", round(out.stat().st_size / 2**20, 1), "MiB")

    with duckdb.connect(str(out), read_only=True) as duck:
        snapshot_sql = QUERY.format(orders="fct_orders", lines="fct_order_lines", where="")
        duck_seconds, duck_answer = timed_median(lambda: duck.execute(snapshot_sql).fetchall())
    warehouse_sql = QUERY.format(
        orders="marts.fct_orders", lines="marts.fct_order_lines", where="and tenant_id = %(t)s"
    )
    with psycopg.connect(url) as conn:
        pg_seconds, pg_answer = timed_median(
            lambda: conn.execute(warehouse_sql, {"t": tenant.id}).fetchall()
        )
    assert [tuple(r) for r in duck_answer] == [tuple(r) for r in pg_answer], "answers differ"
    emit(orders, "query_duckdb", round(duck_seconds * 1000, 1), "ms")
    emit(orders, "query_postgres", round(pg_seconds * 1000, 1), "ms")
    emit(orders, "query_speedup", round(pg_seconds / duck_seconds, 1), "ratio")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", default="5000,20000", help="comma-separated sizes")
    parser.add_argument(
        "--child", nargs=3, metavar=("TENANT", "OUT", "URL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child_export(*args.child)
        return
    admin = db.local_admin_url()
    if admin is None:
        raise SystemExit("needs a local PostgreSQL on 127.0.0.1:5432")
    url = db.create_database(admin, "xeno_bench_export", drop_first=True)
    migrate.upgrade(url)
    with redirect_stdout(sys.stderr):
        runner.ensure_marts(get_settings().on_database(url))
    with tempfile.TemporaryDirectory(prefix="xeno-bench-export-") as folder:
        for orders in (int(size) for size in args.orders.split(",")):
            one_size(url, orders, Path(folder))


if __name__ == "__main__":
    main()
