"""Benchmark of the live loop: many tenants receiving webhooks while users ask for syncs.

N simulated shops (a few orders each) are connected as tenants; the worker gives each
its first sync. Then, for SECONDS, new orders are created across the shops at RATE per
second (each one an `orders/create` webhook the simulator signs and delivers to a real
`xeno api`), and every minute a user requests a sync of one tenant through the API. The
real `xeno worker` applies, builds and syncs. Measured:

- webhook-to-mart latency: from an order's creation in the store to its row in
  marts.fct_orders (polled every second), p50/p95/p99/max;
- a user's sync: request -> running, request -> succeeded (dashboard updated);
- the queue: queued syncs and tenants with due webhooks (each at most one unit per
  tenant), and the oldest due event's wait, sampled every second;
- CPU seconds of the worker, API and simulator processes per applied webhook, and how
  busy the machine was.

    uv run python -m bench.live [--tenants 50] [--rate 20] [--seconds 600]

Prints JSON lines {"bench": "live", "metric": ..., "value": ..., "unit": ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import suppress

import httpx
import psycopg
from cryptography.fernet import Fernet

from bench.common import bench_database, free_port, machine_busy_seconds, percentile
from bench.common import tree_cpu_seconds as cpu
from core import tenants
from core.settings import get_settings

PASSWORD = "bench-password-1234"  # noqa: S105 - a throw-away benchmark user


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"bench": "live", "metric": metric, "value": round(value, 3), "unit": unit}))
    sys.stdout.flush()


def start(argv: list[str], env: dict[str, str], log: str) -> subprocess.Popen[bytes]:
    with open(log, "ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "core.cli", *argv], env=env, stdout=sink, stderr=sink
        )


def wait_up(url: str) -> None:
    for _ in range(600):
        with suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def wait_for(check, what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(1)


def connect_shops(sim: httpx.Client, url: str, api_url: str, n: int) -> list[dict]:
    """N shops as tenants, each delivering order webhooks to the API."""
    shops = []
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(n):
            shop = sim.post(
                "/_sim/shops", json={"name": f"live-{i:03d}", "orders": 20, "rate_limit": False}
            ).json()
            tenant = tenants.create(
                conn,
                name=shop["name"],
                shop_domain=shop["domain"],
                access_token=shop["token"],
                webhook_secret=shop["webhook_secret"],
                settings=get_settings(),
            )
            hook = {
                "topic": "orders/create",
                "address": f"{api_url}/api/webhook/{tenant.id}",
                "format": "json",
            }
            sim.post(
                f"/{shop['domain']}/admin/api/2024-10/webhooks.json",
                json={"webhook": hook},
                headers={"X-Shopify-Access-Token": shop["token"]},
            ).raise_for_status()
            shops.append({**shop, "tenant": str(tenant.id)})
    return shops


def owner(api_url: str, url: str, shops: list[dict]) -> dict[str, str]:
    """A user owning every tenant, for the sync requests."""
    body = {"email": f"bench-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
    answer = httpx.post(f"{api_url}/api/auth/register", json=body).json()
    with psycopg.connect(url, autocommit=True) as conn:
        for shop in shops:
            conn.execute(
                "insert into app.memberships (tenant_id, user_id, role) values (%s, %s, 'owner')",
                (shop["tenant"], answer["user"]["id"]),
            )
    return {"Authorization": f"Bearer {answer['token']}"}


class Run:
    """What the traffic, the watchers and the sync requests observed."""

    def __init__(self) -> None:
        self.created: dict[tuple[str, int], float] = {}  # (tenant, order) -> created at
        self.seen: dict[tuple[str, int], float] = {}
        self.queue: list[tuple[int, int, float]] = []
        self.sync_start: list[float] = []
        self.sync_done: list[float] = []
        self.sync_failed = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()


async def traffic(sim_url: str, shops: list[dict], rate: float, seconds: float, run: Run) -> None:
    """Open loop: an order every 1/rate seconds, whatever the answers' latency."""
    rng = random.Random(1)
    async with httpx.AsyncClient(base_url=sim_url, timeout=30) as client:

        async def one(shop: dict) -> None:
            response = await client.post(f"/_sim/{shop['domain']}/orders", json={})
            order = response.json()["order"]
            with run.lock:
                run.created[(shop["tenant"], order["id"])] = time.time()

        tasks, started = [], time.monotonic()
        for i in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(rng.choice(shops))))
        await asyncio.gather(*tasks)


def watch_marts(url: str, run: Run) -> None:
    """Every second: which created orders are in the marts now."""
    with psycopg.connect(url, autocommit=True) as conn:
        while not run.stop.is_set():
            with run.lock:
                waiting = [key for key in run.created if key not in run.seen]
            if waiting:
                rows = conn.execute(
                    "select tenant_id::text, order_id from marts.fct_orders "
                    "where (tenant_id, order_id) in "
                    "(select * from unnest(%s::uuid[], %s::bigint[]))",
                    ([t for t, _ in waiting], [o for _, o in waiting]),
                ).fetchall()
                now = time.time()
                with run.lock:
                    for key in rows:
                        run.seen.setdefault((key[0], key[1]), now)
            run.stop.wait(1.0)


def watch_queue(url: str, run: Run) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not run.stop.is_set():
            queues = {q: (units, oldest) for q, units, oldest in
                      conn.execute("select * from app.live_loop_backlog()")}  # fmt: skip
            row = (*queues["syncs"][:1], *queues["webhook_tenants"])
            run.queue.append((int(row[0]), int(row[1]), float(row[2])))
            run.stop.wait(1.0)


def user_syncs(api_url: str, headers: dict[str, str], shops: list[dict], run: Run) -> None:
    """Every minute a sync of one tenant, followed until it ends."""
    rng = random.Random(2)
    with httpx.Client(base_url=api_url, timeout=30) as api:
        while not run.stop.wait(60.0 if run.sync_start or run.sync_failed else 20.0):
            tenant = {**headers, "x-tenant-id": rng.choice(shops)["tenant"]}
            asked = time.monotonic()
            sync_id = api.post("/api/shopify/sync", headers=tenant).json()["syncId"]
            started = None
            while time.monotonic() - asked < 600:
                status = api.get(f"/api/shopify/sync/{sync_id}", headers=tenant).json()["status"]
                if started is None and status != "queued":
                    started = time.monotonic() - asked
                if status in {"succeeded", "failed"}:
                    break
                time.sleep(0.25)
            run.sync_start.append(started if started is not None else float("inf"))
            if status == "succeeded":
                run.sync_done.append(time.monotonic() - asked)
            else:
                run.sync_failed += 1


def report(run: Run, seconds: float, cpu_used: dict[str, float], busy: float, applied: int):
    latencies = [run.seen[k] - run.created[k] for k in run.created if k in run.seen]
    emit("orders_created", len(run.created), "orders")
    emit("orders_not_in_marts", len(run.created) - len(latencies), "orders")
    emit("webhooks_applied", applied, "events")
    emit("webhooks_applied_per_second", applied / seconds, "events/s")
    for q in (0.5, 0.95, 0.99):
        emit(f"webhook_to_mart_p{int(q * 100)}", percentile(latencies, q), "s")
    emit("webhook_to_mart_max", max(latencies), "s")
    if run.sync_start:
        emit("sync_request_to_running_p95", percentile(run.sync_start, 0.95), "s")
        emit("sync_request_to_running_max", max(run.sync_start), "s")
    if run.sync_done:
        emit("sync_request_to_dashboard_p50", percentile(run.sync_done, 0.5), "s")
        emit("sync_request_to_dashboard_max", max(run.sync_done), "s")
    emit("user_syncs", len(run.sync_start), "syncs")
    emit("user_syncs_failed", run.sync_failed, "syncs")
    emit("max_queued_syncs", max(q for q, _, _ in run.queue), "units")
    emit("max_tenants_with_due_webhooks", max(d for _, d, _ in run.queue), "units")
    emit("max_oldest_pending_event_age", max(a for _, _, a in run.queue), "s")
    for name, used in cpu_used.items():
        emit(f"{name}_cpu_ms_per_applied_webhook", used * 1000 / max(applied, 1), "ms")
        emit(f"{name}_cpu_cores", used / seconds, "cores")
    emit("machine_busy_cores", busy / seconds, "cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0, help="new orders per second")
    parser.add_argument("--seconds", type=float, default=600.0)
    args = parser.parse_args()

    url = bench_database("xeno_bench_live")
    work = tempfile.mkdtemp(prefix="xeno-bench-live-")
    sim_port, api_port = free_port(), free_port()
    sim_url, api_url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{api_port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DATA_DIR": work,
        "XENO_ENV": "test",
        "JWT_SECRET": "bench-live-" + "x" * 40,
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SHOPIFY_ENDPOINT_TEMPLATE": f"{sim_url}/{{shop}}",
        "BASE_URL": api_url,
        "LOG_LEVEL": "WARNING",
        "DB_POOL_MAX": "20",
        "AUTH_RATE_LIMIT_PER_MINUTE": "10000",
    }
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DATA_DIR", "ENCRYPTION_KEYS")})
    simulator = start(
        ["simulator", "serve", "--port", str(sim_port), "--shops", "1", "--rate-limit", "off"],
        env,
        f"{work}/simulator.log",
    )
    api = start(["api", "--port", str(api_port)], env, f"{work}/api.log")
    processes = [simulator, api]
    try:
        wait_up(f"{sim_url}/_sim/shops")
        wait_up(f"{api_url}/health")
        with httpx.Client(base_url=sim_url, timeout=60) as sim:
            shops = connect_shops(sim, url, api_url, args.tenants)
        headers = owner(api_url, url, shops)
        began = time.monotonic()
        worker = start(["worker"], {**env, "LOG_LEVEL": "INFO"}, f"{work}/worker.log")
        processes.append(worker)

        def first_syncs_done() -> bool:
            with psycopg.connect(url) as conn:
                row = conn.execute(
                    "select count(*) from app.sync_runs r join app.mart_builds b "
                    "using (tenant_id) where r.trigger = 'first' and r.status = 'succeeded' "
                    "and b.built_at >= r.finished_at"
                ).fetchone()
            return row[0] >= len(shops)

        wait_for(first_syncs_done, "the first syncs", 1800)
        emit("first_syncs_all_tenants", time.monotonic() - began, "s")

        run = Run()
        watchers = [
            threading.Thread(target=watch_marts, args=(url, run)),
            threading.Thread(target=watch_queue, args=(url, run)),
            threading.Thread(target=user_syncs, args=(api_url, headers, shops, run)),
        ]
        with psycopg.connect(url) as conn:
            applied_before = conn.execute(
                "select count(*) from app.webhook_events where status = 'applied'"
            ).fetchone()[0]
        before = {"worker": cpu(worker.pid), "api": cpu(api.pid), "simulator": cpu(simulator.pid)}
        busy_before, started = machine_busy_seconds(), time.monotonic()
        for thread in watchers:
            thread.start()
        asyncio.run(traffic(sim_url, shops, args.rate, args.seconds, run))
        # the last orders still travel: wait for them, still measuring
        deadline = time.monotonic() + 300
        while len(run.seen) < len(run.created) and time.monotonic() < deadline:
            time.sleep(1)
        elapsed = time.monotonic() - started
        used = {name: cpu(p.pid) - before[name] for name, p in
                (("worker", worker), ("api", api), ("simulator", simulator))}  # fmt: skip
        busy = machine_busy_seconds() - busy_before
        run.stop.set()
        for thread in watchers:
            thread.join()
        with psycopg.connect(url) as conn:
            applied = conn.execute(
                "select count(*) from app.webhook_events where status = 'applied'"
            ).fetchone()[0]
        emit("tenants", len(shops), "tenants")
        emit("order_rate", args.rate, "orders/s")
        emit("traffic_seconds", args.seconds, "s")
        report(run, elapsed, used, busy, applied - applied_before)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            with suppress(subprocess.TimeoutExpired):
                process.wait(15)


if __name__ == "__main__":
    main()
