"""The REST backfill Xeno used before the GraphQL bulk path, kept as a benchmark baseline.

dlt's `RESTClient` follows the simulator's REST `Link` cursors (250 records a page) for
customers, products, orders (`status=any`) and abandoned checkouts, and dlt's row-by-row
normaliser unnests them (two levels, money as decimal) into a scratch schema, merged on
`id` with the same dlt settings the REST sync used: no gzip, CSV load files through
`COPY`, 1,000-item buffers. One dlt run per resource: the REST sync's 50,000-record
windows and its count calls are left out, which only flatters the baseline.

The load runs in a child process so its CPU time and peak RSS are its own.
`measure(database_url, simulator_url, shop)` returns the figures;
`uv run python -m bench.rest_baseline --orders 10000` runs it standalone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCHEMA = "rest_baseline"
API_VERSION = "2024-10"  # the version the REST sync called
PAGE_SIZE = 250
ENDPOINTS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    # (dlt resource, list path, JSON key, extra parameters)
    ("customers", "customers.json", "customers", {}),
    ("products", "products.json", "products", {}),
    ("orders", "orders.json", "orders", {"status": "any"}),
    ("abandoned_checkouts", "checkouts.json", "checkouts", {}),
)
# As the REST source typed them: every Shopify money field, at any depth, is numeric.
MONEY_TYPE_HINT = (
    "re:(^|__)(amount|tax_amount|price|subtotal|discounted_price|compare_at_price|line_price"
    "|total_spent|total_discount|total_discounts|total_tax|total_price|subtotal_price"
    "|total_line_items_price|total_outstanding|total_tip_received|total_duties"
    "|current_total_price|current_subtotal_price|current_total_tax|current_total_discounts"
    "|current_total_duties)$"
)
UNITS = {
    "orders": "orders",
    "seconds": "s",
    "orders_per_second": "orders/s",
    "cpu_ms_per_order": "ms/order",
    "peak_rss_mib": "MiB",
}


def _configure_dlt() -> None:
    """The REST sync's dlt settings (see ingestion/pipeline.py of that time)."""
    os.environ["RUNTIME__LOG_LEVEL"] = "ERROR"  # dlt reads its log level at import
    import dlt

    dlt.config["runtime.dlthub_telemetry"] = False
    dlt.config["data_writer.disable_compression"] = True
    dlt.config["data_writer.buffer_max_items"] = 1000


def child(database_url: str, simulator_url: str, shop_domain: str, token: str) -> None:
    """In the child: load the store, print its elapsed seconds as one JSON line."""
    _configure_dlt()
    import dlt
    from dlt.common.schema.typing import TSimpleRegex
    from dlt.sources.helpers.rest_client import RESTClient
    from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

    client = RESTClient(
        base_url=f"{simulator_url}/{shop_domain}/admin/api/{API_VERSION}",
        headers={"X-Shopify-Access-Token": token},
        paginator=HeaderLinkPaginator(),
    )

    def resource(name: str, path: str, key: str, params: dict[str, str]) -> Any:
        @dlt.resource(
            name=name,
            primary_key="id",
            write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        )
        def records() -> Iterator[list[dict[str, Any]]]:
            yield from client.paginate(
                path, params={**params, "limit": PAGE_SIZE}, data_selector=key
            )

        return records

    @dlt.source(name="shopify_rest", max_table_nesting=2)
    def source(name: str) -> Any:
        money = TSimpleRegex(MONEY_TYPE_HINT)
        dlt.current.source_schema().update_preferred_types({money: "decimal"})
        return [resource(*endpoint) for endpoint in ENDPOINTS if endpoint[0] == name]

    with tempfile.TemporaryDirectory() as work:
        pipeline = dlt.pipeline(
            pipeline_name="rest_baseline",
            pipelines_dir=work,
            destination=dlt.destinations.postgres(credentials=database_url),
            dataset_name=SCHEMA,
        )
        started = time.perf_counter()
        for name, *_ in ENDPOINTS:
            pipeline.run(source(name), loader_file_format="csv").raise_on_failed_jobs()
        elapsed = time.perf_counter() - started
    print(json.dumps({"elapsed": elapsed}), flush=True)


def measure(database_url: str, simulator_url: str, shop: dict) -> dict[str, float]:
    """Backfill `shop` (a `/_sim/shops` entry) the REST way in a child process.

    Drops the scratch schema first. Returns orders, seconds, orders_per_second,
    cpu_ms_per_order (the child's CPU) and peak_rss_mib (the child's).
    """
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"drop schema if exists {SCHEMA} cascade")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.rest_baseline",
            "--child",
            json.dumps([database_url, simulator_url, shop["domain"], shop["token"]]),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("the REST baseline load failed")
    result = json.loads(output.strip().splitlines()[-1])
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(f"select count(*) from {SCHEMA}.orders").fetchone()
    orders = int(row[0]) if row else 0
    if orders != shop["counts"]["orders"]:
        raise RuntimeError(f"REST baseline loaded {orders} of {shop['counts']['orders']} orders")
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "orders": orders,
        "seconds": round(result["elapsed"], 2),
        "orders_per_second": round(orders / result["elapsed"]),
        "cpu_ms_per_order": round(1000 * cpu / orders, 3),
        "peak_rss_mib": round(usage.ru_maxrss / 1024),
    }


@click.command()
@click.option("--orders", default=10_000, show_default=True)
@click.option("--child", "child_args", hidden=True, help="internal: run the load, print JSON")
def main(orders: int, child_args: str | None) -> None:
    if child_args:
        child(*json.loads(child_args))
        return
    import httpx

    from bench.common import bench_database
    from bench.ingest import emit, start_simulator

    process, api = start_simulator()
    try:
        url = bench_database("xeno_bench_rest_baseline")
        shop = (
            httpx.post(
                f"{api}/_sim/shops",
                json={"name": "bench-rest", "orders": orders, "rate_limit": False},
                timeout=600,
            )
            .raise_for_status()
            .json()
        )
        for metric, value in measure(url, api, shop).items():
            emit("rest_baseline", metric, value, UNITS[metric])
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
