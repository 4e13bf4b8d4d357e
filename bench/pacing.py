"""Increments pacing: how much of a store's GraphQL restore rate paged reads use.

A paged read (`ShopifyGraphQL.pages`, as increments read) runs against a simulated shop
on a given plan for a while, starting from a full bucket. Once the bucket first runs
dry (the first time the pacer has to wait), every point the store restores should be
spent, and no query should be `THROTTLED`. Reported: the share of the restore rate used
over that window (the points the store charged / restore rate x window) and the
THROTTLED answers after the first drain.

`measure(client, resource, page_size, seconds)` is used by `bench.ingest` and by
tests/ingestion/test_cost_pacing.py; `uv run python -m bench.pacing` runs it standalone
on Standard and Plus.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingestion.graphql import ShopifyGraphQL  # noqa: E402
from ingestion.queries import Resource  # noqa: E402


@dataclass(frozen=True)
class PacingResult:
    window_seconds: float  # from the first drain to the last answer
    requests: int  # queries answered in the window
    points: int  # points the store charged in the window (actualQueryCost)
    restore_rate: float
    throttled_after_drain: int
    throttled_total: int

    @property
    def restore_share(self) -> float:
        """Points charged / points restored over the window (1.0 = every point used)."""
        return self.points / (self.restore_rate * self.window_seconds)


def measure(
    client: ShopifyGraphQL, resource: Resource, page_size: int, seconds: float
) -> PacingResult:
    """Page through `resource` again and again for `seconds` after the bucket first
    runs dry (a fresh client on a full bucket drains it first)."""
    stats = client.pacer.stats
    drained: tuple[float, int, int, int] | None = None  # time, points, requests, throttled
    while True:
        for _ in client.pages(resource, page_size=page_size):
            now = time.monotonic()
            if drained is None:
                if stats.waited_seconds > 0:
                    drained = (now, stats.actual_points, stats.requests, stats.throttled)
            elif now - drained[0] >= seconds:
                return PacingResult(
                    window_seconds=now - drained[0],
                    requests=stats.requests - drained[2],
                    points=stats.actual_points - drained[1],
                    restore_rate=stats.restore_rate,
                    throttled_after_drain=stats.throttled - drained[3],
                    throttled_total=stats.throttled,
                )


@click.command()
@click.option("--orders", default=3_000, show_default=True)
@click.option("--seconds", default=15.0, show_default=True)
def main(orders: int, seconds: float) -> None:
    """Increments read orders: pages as large as one query allows, on Standard and Plus."""
    import httpx

    from bench.ingest import emit, start_simulator
    from core.settings import get_settings, load_settings
    from ingestion.queries import ORDERS

    process, api = start_simulator()
    try:
        settings = load_settings({"SHOPIFY_ENDPOINT_TEMPLATE": f"{api}/{{shop}}"})
        get_settings.cache_clear()
        for plan in ("standard", "plus"):
            shop = (
                httpx.post(
                    f"{api}/_sim/shops",
                    json={"name": f"bench-pacing-{plan}", "orders": orders, "plan": plan},
                    timeout=600,
                )
                .raise_for_status()
                .json()
            )
            with ShopifyGraphQL(shop["domain"], shop["token"], settings) as client:
                page_size = client.page_size(ORDERS)
                result = measure(client, ORDERS, page_size, seconds)
            bench = f"pacing_{plan}"
            emit(bench, "window", round(result.window_seconds, 1), "s")
            emit(bench, "requests", result.requests, "requests", f"{page_size} orders a page")
            share = round(100 * result.restore_share, 1)
            note = f"{result.points} points charged at {result.restore_rate:g} points/s"
            emit(bench, "restore_rate_used", share, "%", note)
            emit(bench, "throttled_after_first_drain", result.throttled_after_drain, "THROTTLED")
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
