"""Benchmark of the daily cycle: N small tenants synced and transformed through Dagster.

The simulator serves N shops (a few hundred orders each, no rate limit); every shop is a
tenant and a partition of a temporary Dagster instance. A cycle is the daily schedule's
run requests executed by MAX_WAREHOUSE_RUNS worker processes, each run exactly what the
daemon launches (job `tenant_sync`, both steps in process). The first cycle is each
tenant's first backfill; the second is a steady-state daily cycle. A daemon-launched run
also starts a fresh process that imports the code location: measured separately and
added to the projection.

    uv run python -m bench.tenants [--tenants 200] [--orders 300] [--workers 2]

(As a module: run as a script, `bench/simulator.py` would shadow the simulator package.)

Prints JSON lines {"bench": "tenants", "metric": ..., "value": ..., "unit": ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from core import db, migrate
from simulator.server import run_simulator
from simulator.shop import ShopSpec

_worker_state: dict = {}


def emit(metric: str, value: float, unit: str) -> None:
    print(
        json.dumps({"bench": "tenants", "metric": metric, "value": round(value, 3), "unit": unit})
    )
    sys.stdout.flush()


def open_instance(instance_dir: str):
    """The production instance config (orchestration/dagster.yaml completed from settings,
    storage in PostgreSQL via DAGSTER_DATABASE_URL) in a temporary DAGSTER_HOME."""
    from dagster import DagsterInstance

    from core.settings import load_settings
    from orchestration.instance import export_storage_url, instance_config

    settings = load_settings()
    export_storage_url(settings)
    config = {**instance_config(settings), "telemetry": {"enabled": False}}
    return DagsterInstance.local_temp(instance_dir, overrides=config)


def _init_worker(instance_dir: str) -> None:
    """Each worker loads the definitions and opens the instance once, like a code server.

    dagster-dbt echoes dbt's log to stdout: workers send it to stderr, so stdout stays
    the JSON lines."""
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    from orchestration.definitions import defs

    _worker_state["job"] = defs.get_job_def("tenant_sync")
    _worker_state["instance"] = open_instance(instance_dir)


def _run(request: tuple[str, dict[str, str]]) -> tuple[bool, float]:
    partition, tags = request
    started = time.perf_counter()
    result = _worker_state["job"].execute_in_process(
        partition_key=partition, instance=_worker_state["instance"], tags=tags, raise_on_error=False
    )
    return result.success, time.perf_counter() - started


def cycle(name: str, instance, instance_dir: str, workers: int, tenants: int) -> float:
    from dagster import build_schedule_context

    from orchestration.definitions import defs

    repository = defs.get_repository_def()
    context = build_schedule_context(
        instance=instance, repository_def=repository, scheduled_execution_time=datetime.now(UTC)
    )
    requests = repository.get_schedule_def("daily_sync").evaluate_tick(context).run_requests
    work = [(r.partition_key, dict(r.tags)) for r in requests or []]
    started = time.perf_counter()
    with ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=_init_worker, initargs=(instance_dir,)
    ) as pool:
        # Workers start (import the code location) before the clock's work is counted.
        list(pool.map(time.sleep, [0.0] * workers))
        started = time.perf_counter()
        results = list(pool.map(_run, work))
    wall = time.perf_counter() - started
    failed = sum(not ok for ok, _ in results)
    emit(f"{name}_cycle_seconds", wall, "s")
    emit(f"{name}_run_seconds_mean", sum(s for _, s in results) / len(results), "s")
    emit(f"{name}_wall_seconds_per_tenant", wall / tenants, "s")
    emit(f"{name}_failed_runs", failed, "runs")
    return wall


def run_process_start_seconds() -> float:
    """What a daemon-launched run pays before its first step: a process importing the code
    location (dagster, dlt, dbt, the manifest)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import orchestration.definitions"], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    admin = db.local_admin_url() or db.embedded_admin_url(Path(".local"))
    url = db.create_database(admin, "xeno_bench_tenants", drop_first=True)
    dagster_url = db.create_database(admin, "xeno_bench_dagster", drop_first=True)
    migrate.upgrade(url)
    work_dir = Path(tempfile.mkdtemp(prefix="xeno-bench-tenants-"))
    shops = [
        ShopSpec(name=f"bench-{i}", orders=args.orders, seed=i, rate_limit=False, days=365)
        for i in range(args.tenants)
    ]
    with run_simulator(shops, rate_limit=False) as sim:
        os.environ.update(
            {
                "DATABASE_URL": url,
                "DAGSTER_DATABASE_URL": dagster_url,
                "DATA_DIR": str(work_dir / "data"),
                "SHOPIFY_ENDPOINT_TEMPLATE": f"{sim.base_url}/{{shop}}",
                "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "LOG_LEVEL": "WARNING",
            }
        )
        from core import tenants
        from orchestration.partitions import TENANTS

        listed = httpx.get(f"{sim.base_url}/_sim/shops", timeout=60).json()
        with db.transaction() as conn:
            ids = [
                str(
                    tenants.create(
                        conn, name=s["domain"], shop_domain=s["domain"], access_token=s["token"]
                    ).id
                )
                for s in listed
            ]
        instance_dir = str(work_dir / "dagster")
        os.makedirs(instance_dir)
        instance = open_instance(instance_dir)
        instance.add_dynamic_partitions(TENANTS.name, ids)
        emit("tenants", len(ids), "tenants")
        emit("orders_per_tenant", args.orders, "orders")
        cycle("first", instance, instance_dir, args.workers, len(ids))
        daily = cycle("daily", instance, instance_dir, args.workers, len(ids))
    start = run_process_start_seconds()
    emit("run_process_start_seconds", start, "s")
    per_tenant = daily / len(ids) + start / args.workers
    emit("per_tenant_overhead_seconds", per_tenant, "s")
    emit("projected_1000_tenants_daily_minutes", per_tenant * 1000 / 60, "min")


if __name__ == "__main__":
    main()
