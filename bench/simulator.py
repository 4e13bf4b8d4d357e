"""Simulator benchmark: orders served per second and server memory on a million-order shop.

Runs ``python -m simulator.cli serve`` as a subprocess (one server process, rate limit off),
walks ``orders.json`` with pages of 250 by following ``Link`` headers, and reads the
server's peak RSS (``VmHWM``) from /proc. Prints one JSON object per figure.

    uv run python -m bench.simulator [--orders 100000] [--big 1000000] [--big-pages 400]
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import msgspec

NEXT = re.compile(r'<([^>]+)>; rel="next"')


class Server:
    """A simulator subprocess serving one shop."""

    def __init__(self, orders: int) -> None:
        start = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "simulator.cli", "serve", "--port", "0", "--shops", "1",
             "--orders", str(orders), "--rate-limit", "off"],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        lines: list[str] = []
        while not any("control surface" in line for line in lines):
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("simulator exited:\n" + "".join(lines))
            lines.append(line)
        self.startup_s = time.monotonic() - start
        self.url = next(line.split()[-1] for line in lines if "listening on" in line)
        shop = httpx.get(f"{self.url}/_sim/shops").json()[0]
        self.orders_url = f"{shop['admin_url']}/orders.json"
        self.client = httpx.Client(headers={"X-Shopify-Access-Token": shop["token"]}, timeout=120)

    def walk(self, max_pages: int | None = None) -> tuple[int, int, float]:
        """(orders, pages, seconds) walking orders with status=any, limit=250."""
        start = time.monotonic()
        response = self.client.get(self.orders_url, params={"status": "any", "limit": 250})
        orders = pages = 0
        while True:
            response.raise_for_status()
            orders += len(msgspec.json.decode(response.content)["orders"])
            pages += 1
            match = NEXT.search(response.headers.get("link", ""))
            if not match or (max_pages is not None and pages >= max_pages):
                return orders, pages, time.monotonic() - start
            response = self.client.get(match.group(1))

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used (robust to a busy machine)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        """Server's peak resident set size."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        kb = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
        return kb / 1024

    def close(self) -> None:
        self.client.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"name": name, "value": round(value, 2), "unit": unit, **extra}), flush=True)


@click.command()
@click.option("--orders", default=100_000, show_default=True, help="orders of the speed shop")
@click.option("--big", default=1_000_000, show_default=True, help="orders of the memory shop")
@click.option("--big-pages", default=400, show_default=True, help="pages walked on it (0=all)")
def main(orders: int, big: int, big_pages: int) -> None:
    """Measure throughput, startup time and peak RSS."""
    server = Server(orders)
    try:
        emit("startup_seconds", server.startup_s, "s", orders=orders)
        cpu = server.cpu_seconds()
        served, pages, seconds = server.walk()
        cpu = server.cpu_seconds() - cpu
        assert served == orders, (served, orders)
        emit("orders_per_second", served / seconds, "orders/s", orders=served, pages=pages,
             page_size=250, seconds=round(seconds, 2))  # fmt: skip
        emit("orders_per_server_cpu_second", served / cpu, "orders/s", orders=served)
        emit("peak_rss", server.peak_rss_mb(), "MB", orders=orders)
    finally:
        server.close()
    server = Server(big)
    try:
        emit("startup_seconds", server.startup_s, "s", orders=big)
        emit("idle_rss", server.peak_rss_mb(), "MB", orders=big)
        cpu = server.cpu_seconds()
        served, pages, seconds = server.walk(big_pages or None)
        cpu = server.cpu_seconds() - cpu
        emit("orders_per_server_cpu_second", served / cpu, "orders/s", shop_orders=big)
        emit("orders_per_second", served / seconds, "orders/s", orders=served, pages=pages,
             page_size=250, shop_orders=big)  # fmt: skip
        emit("peak_rss", server.peak_rss_mb(), "MB", orders=big, pages_served=pages)
    finally:
        server.close()


if __name__ == "__main__":
    main()
