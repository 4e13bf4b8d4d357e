"""Benchmark of the webhook receiver: signed deliveries per second with a durable commit.

`uvicorn` serves the real app (`create_app`) plus one bare route that reads the body and
answers 200 without verifying or storing: the ceiling of the same server and middleware,
measured in the same run. For each: the most deliveries per second over `--connections`
keep-alive connections (closed loop), then latency at a fixed arrival rate (`--rate`,
counted from each request's scheduled start, no coordinated omission). Every delivery
is unique and signed; the run ends by checking that each stored one is in the table.

    uv run python -m bench.webhooks [--seconds 10] [--rate 2000] [--workers 2]

(As a module: run as a script, `bench/api.py` would shadow the `api` package.)

Prints JSON lines {"bench": "webhooks", "metric": ..., "value": ..., "unit": ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from contextlib import suppress

import httpx
import psycopg
from litestar import Litestar, Request, post

from api.app import create_app
from api.webhooks.verify import signature
from bench.common import bench_database, free_port, percentile
from core import tenants

SECRET = "bench-webhook-secret"  # noqa: S105 - a throw-away benchmark database
DOMAIN = "bench-hooks.myshopify.com"
BODY_PAD = "x" * 1500  # about the size of a small order payload


def emit(metric: str, value: float, unit: str) -> None:
    print(
        json.dumps({"bench": "webhooks", "metric": metric, "value": round(value, 3), "unit": unit})
    )
    sys.stdout.flush()


@post("/api/webhook/{tenant_id:str}/bare", status_code=200)
async def bare(tenant_id: str, request: Request) -> dict[str, bool]:
    """The ceiling: the same app and middleware, no verification and no database."""
    await request.body()
    return {"received": True}


def bench_app() -> Litestar:
    app = create_app()
    app.register(bare)
    return app


def prepare() -> tuple[str, uuid.UUID]:
    url = bench_database("xeno_bench_webhooks")
    with psycopg.connect(url, autocommit=True) as conn:
        tenant = tenants.create(
            conn,
            name="Bench hooks",
            shop_domain=DOMAIN,
            access_token="shpat_bench",  # noqa: S106 - never used
            webhook_secret=SECRET,
        )
        conn.execute("select app.ensure_api_role()")
        conn.execute("select app.grant_webhook_access()")
    return url, tenant.id


def start(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "API_SYNC_WORKER": "false",
        "WEBHOOK_APPLY_INTERVAL_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "XENO_ENV": "test",
        "DB_POOL_MAX": "16",
    }
    argv = [sys.executable, "-m", "uvicorn", "bench.webhooks:bench_app", "--factory"]
    argv += [
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    for _ in range(300):
        with suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the API did not start")


def deliveries(path: str, n: int) -> list[bytes]:
    """`n` unique signed HTTP requests, ready to write."""
    requests = []
    for i in range(n):
        body = json.dumps(
            {"id": i, "updated_at": "2024-06-01T10:00:00Z", "note": BODY_PAD}
        ).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Shopify-Topic: orders/updated\r\n"
            f"X-Shopify-Hmac-Sha256: {signature(SECRET, body)}\r\n"
            f"X-Shopify-Shop-Domain: {DOMAIN}\r\nX-Shopify-Webhook-Id: {uuid.uuid4()}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


class Connection:
    """A minimal keep-alive HTTP/1.1 client (cheap: it shares two cores with the server)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(self, request: bytes) -> int:
        """One request; a keep-alive connection the server closed meanwhile is reopened
        once (as HTTP clients do: the delivery carries its webhook id, so it is idempotent)."""
        for attempt in range(2):
            if self.streams is None:
                self.streams = await asyncio.open_connection("127.0.0.1", self.port)
            reader, writer = self.streams
            writer.write(request)
            status_line = await reader.readline()
            if status_line or attempt:
                break
            writer.close()
            self.streams = None
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        parts = status_line.split()
        return int(parts[1]) if len(parts) > 1 else 0


async def closed_loop(port: int, requests: list[bytes], connections: int) -> tuple[float, int]:
    """Every request as fast as `connections` keep-alive connections allow: (per s, errors)."""
    queue = iter(requests)
    errors = 0

    async def worker() -> None:
        nonlocal errors
        conn = Connection(port)
        for request in queue:
            if await conn.send(request) != 200:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return len(requests) / (time.perf_counter() - started), errors


async def open_loop(port: int, requests: list[bytes], rate: int, connections: int) -> list[float]:
    """Requests at a fixed arrival rate; latency from each one's scheduled start (ms)."""
    idle = [Connection(port) for _ in range(connections)]
    available = asyncio.Semaphore(connections)
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.2

    async def one(i: int, request: bytes) -> None:
        scheduled = t0 + i / rate
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        async with available:
            conn = idle.pop()
            try:
                await conn.send(request)
            finally:
                idle.append(conn)
        latencies.append((loop.time() - scheduled) * 1000)

    await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
    return latencies


def measure(name: str, port: int, path: str, args: argparse.Namespace) -> float:
    warm = deliveries(path, 2_000)
    asyncio.run(closed_loop(port, warm, args.connections))
    per_second, errors = asyncio.run(
        closed_loop(port, deliveries(path, args.rate * args.seconds), args.connections)
    )
    emit(f"{name}_throughput", per_second, "deliveries/s")
    emit(f"{name}_errors", errors, "deliveries")
    latencies = asyncio.run(
        open_loop(port, deliveries(path, args.rate * args.seconds), args.rate, args.connections)
    )
    emit(f"{name}_p50_at_{args.rate}_per_s", percentile(latencies, 0.5), "ms")
    emit(f"{name}_p99_at_{args.rate}_per_s", percentile(latencies, 0.99), "ms")
    return per_second


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rate", type=int, default=2_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url, tenant_id = prepare()
    port = free_port()
    server = start(url, port, args.workers)
    try:
        stored = measure("stored", port, f"/api/webhook/{tenant_id}", args)
        ceiling = measure("bare", port, f"/api/webhook/{tenant_id}/bare", args)
    finally:
        server.terminate()
        server.wait(10)
    emit("stored_to_bare_ratio", stored / ceiling, "ratio")
    with psycopg.connect(url) as conn:
        rows = conn.execute("select count(*) from app.webhook_events").fetchone()
    expected = 2_000 + 2 * args.rate * args.seconds
    emit("stored_rows_missing", expected - (rows[0] if rows else 0), "deliveries")


if __name__ == "__main__":
    main()
