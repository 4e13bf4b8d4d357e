"""Simulator bulk-line throughput: how fast a shop's orders become bulk JSONL objects.

Builds one shop in process, streams `bulk_lines` for Xeno's order bulk query (the REST
record rendering plus the GraphQL projection) and, separately, the REST rendering alone,
and prints one JSON object per figure (CPU time of this process).

    uv run python -m bench.graphql_lines [--orders 50000]
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import click
from graphql import parse

from ingestion import queries
from simulator.graphql.bulk_lines import bulk_lines
from simulator.shop import Shop, ShopSpec


@click.command()
@click.option("--orders", default=50_000, show_default=True)
def main(orders: int) -> None:
    shop = Shop(ShopSpec(name="bench", orders=orders, anchor=datetime(2026, 1, 1, tzinfo=UTC)))
    document = parse(queries.ORDERS.bulk_query())
    start = time.process_time()
    for _ in shop.store.orders.iter_shared():
        pass
    render = time.process_time() - start
    start, wall, lines = time.process_time(), time.perf_counter(), 0
    for _ in bulk_lines(shop.store, document):
        lines += 1
    cpu, wall = time.process_time() - start, time.perf_counter() - wall
    figures = {
        "bulk_lines_orders_per_second": round(orders / wall),
        "bulk_lines_cpu_ms_per_order": round(cpu / orders * 1000, 4),
        "rest_render_cpu_ms_per_order": round(render / orders * 1000, 4),
        "projection_cpu_ms_per_order": round((cpu - render) / orders * 1000, 4),
        "lines_per_order": round(lines / orders, 2),
    }
    for name, value in figures.items():
        print(
            json.dumps({"bench": "graphql_lines", "orders": orders, "figure": name, "value": value})
        )


if __name__ == "__main__":
    main()
