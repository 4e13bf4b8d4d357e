"""DuckDB flattening alone: how fast a bulk JSONL file of orders becomes raw-table batches.

Without `--file`, writes the order bulk lines of a generated shop (the simulator's
`bulk_lines` for Xeno's bulk query) to a temporary file first. The flattening runs in a
fresh process, so its peak RSS is its own (DuckDB runs in a child of that process: both
peaks are printed). One JSON object per figure: orders/s (wall clock), CPU ms per order
(every thread of both processes), peak RSS, rows.

    uv run python -m bench.flatten [--orders 100000] [--file orders.jsonl]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import click


def write_orders(orders: int, path: Path) -> None:
    from graphql import parse

    from ingestion import queries
    from simulator.graphql.bulk_lines import bulk_lines
    from simulator.shop import Shop, ShopSpec

    shop = Shop(ShopSpec(name="bench", orders=orders, anchor=datetime(2026, 1, 1, tzinfo=UTC)))
    with path.open("w") as out:
        for line in bulk_lines(shop.store, parse(queries.ORDERS.bulk_query())):
            out.write(json.dumps(line, separators=(",", ":")) + "\n")


def _cpu() -> float:
    """CPU seconds of this process and its finished children (DuckDB runs in one)."""
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(path: Path) -> dict[str, float]:
    from ingestion.flatten import flatten

    rows: dict[str, int] = {}
    start, wall = _cpu(), time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        for table, batch in flatten("orders", [path], work_dir=Path(work)):
            rows[table] = rows.get(table, 0) + batch.num_rows
    cpu, wall = _cpu() - start, time.perf_counter() - wall
    orders = rows.get("orders", 0)
    peak = {
        w: resource.getrusage(w).ru_maxrss / 1024
        for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    }
    return {
        "orders": orders,
        "flatten_orders_per_second": round(orders / wall),
        "flatten_cpu_ms_per_order": round(cpu / max(orders, 1) * 1000, 4),
        "reader_peak_rss_mib": round(peak[resource.RUSAGE_SELF]),
        "duckdb_process_peak_rss_mib": round(peak[resource.RUSAGE_CHILDREN]),
        "rows": sum(rows.values()),
        "file_mib": round(path.stat().st_size / 2**20),
    }


@click.command()
@click.option("--orders", default=100_000, show_default=True)
@click.option("--file", "file", type=click.Path(exists=True, path_type=Path), default=None)
@click.option("--measure-only", is_flag=True, hidden=True)
def main(orders: int, file: Path | None, measure_only: bool) -> None:
    if measure_only and file is not None:
        print(json.dumps(measure(file)))
        return
    with tempfile.TemporaryDirectory() as folder:
        if file is None:
            file = Path(folder) / "orders.jsonl"
            write_orders(orders, file)
        result = subprocess.run(
            [sys.executable, "-m", "bench.flatten", "--file", str(file), "--measure-only"],
            check=True,
            capture_output=True,
            text=True,
        )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    count = figures.pop("orders")
    for name, value in figures.items():
        print(json.dumps({"bench": "flatten", "orders": count, "figure": name, "value": value}))


if __name__ == "__main__":
    main()
