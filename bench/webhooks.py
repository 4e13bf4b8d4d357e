"""Benchmark of the webhook receiver: signed deliveries per second with a durable commit.

`uvicorn` serves the real app (`create_app`) plus one bare route that reads the body and
answers 200 without verifying or storing: the ceiling of the same server and middleware,
measured in the same run. For each: the most deliveries per second over `--connections`
keep-alive connections (closed loop: the max sustained rate), then latency at a fixed
arrival rate (`--rate`, the target, counted from each request's scheduled start: no
coordinated omission; `bench.common.open_loop`, which reports its own lateness apart).
Every delivery is unique and signed; the run ends by checking that each stored one is in
the table.

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
import uvloop
from litestar import Litestar, Request, post

from api.app import create_app
from api.webhooks.verify import signature
from bench.common import (
    Connection,
    CpuMeter,
    bench_database,
    free_port,
    percentile,
    run_open_loop,
)
from core import tenants
from core.settings import get_settings

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
    app = create_app(get_settings())
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
            settings=get_settings(),
        )
        conn.execute("select app.ensure_api_role()")
        conn.execute("select app.grant_webhook_access()")
    return url, tenant.id


def start(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
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


async def closed_loop(port: int, requests: list[bytes], connections: int) -> tuple[float, int]:
    """Every request as fast as `connections` keep-alive connections allow: (per s, errors)."""
    queue = iter(requests)
    errors = 0

    async def worker() -> None:
        nonlocal errors
        conn = Connection(port)
        for request in queue:
            try:
                status = await conn.send(request)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                status, conn = 0, Connection(port)
            if status != 200:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return len(requests) / (time.perf_counter() - started), errors


def measure(
    name: str, port: int, path: str, args: argparse.Namespace, server_pid: int
) -> tuple[float, float]:
    """Most deliveries per second (closed loop), then latency at the fixed `--rate`."""
    warm = deliveries(path, 2_000)
    uvloop.run(closed_loop(port, warm, args.connections))
    per_second, errors = uvloop.run(
        closed_loop(port, deliveries(path, args.rate * args.seconds), args.connections)
    )
    emit(f"{name}_max_sustained", per_second, "deliveries/s")
    emit(f"{name}_max_sustained_errors", errors, "deliveries")
    requests = deliveries(path, args.rate * args.seconds)
    meter = CpuMeter(server_pid)
    meter.start()
    run = run_open_loop(port, requests.__getitem__, args.rate, len(requests), args.connections)
    cpu = meter.report(len(requests), run.seconds)
    at = f"at_{args.rate}_per_s"
    emit(f"{name}_throughput_{at}", run.throughput, "deliveries/s")
    emit(f"{name}_errors_{at}", run.errors, "deliveries")
    emit(f"{name}_p50_{at}", percentile(run.latencies_ms, 0.5), "ms")
    emit(f"{name}_p99_{at}", percentile(run.latencies_ms, 0.99), "ms")
    emit(f"{name}_generator_lateness_p99", percentile(run.lateness_ms, 0.99), "ms")
    for metric, value in cpu.items():
        emit(f"{name}_{metric}", value, "cores" if metric.endswith("cores") else "ms")
    return per_second, percentile(run.latencies_ms, 0.99)


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
        stored, stored_p99 = measure("stored", port, f"/api/webhook/{tenant_id}", args, server.pid)
        ceiling, bare_p99 = measure(
            "bare", port, f"/api/webhook/{tenant_id}/bare", args, server.pid
        )
    finally:
        server.terminate()
        server.wait(10)
    emit("stored_to_bare_ratio", stored / ceiling, "ratio")
    emit("stored_p99_minus_bare_p99", stored_p99 - bare_p99, "ms")
    with psycopg.connect(url) as conn:
        rows = conn.execute("select count(*) from app.webhook_events").fetchone()
    expected = 2_000 + 2 * args.rate * args.seconds
    emit("stored_rows_missing", expected - (rows[0] if rows else 0), "deliveries")


if __name__ == "__main__":
    main()
