"""Benchmark of the daily cycle: N small tenants synced and transformed through Dagster.

The simulator serves N shops (a few hundred orders each, no rate limit); every shop is a
tenant. The first cycle adds the partitions (the tenants sensor's first tick) and syncs every
tenant in batched runs, as an operator's backfill would; the second is the daily schedule's tick, a
steady-state cycle. Each cycle's run requests (ranges of ORCHESTRATION_BATCH_SIZE tenant
partitions) are executed by MAX_WAREHOUSE_RUNS worker processes, each run exactly what
the daemon launches (job `tenant_sync`, both steps in process). A daemon-launched run
also starts a fresh process that imports the code location: measured separately and
added to the projection once per run, i.e. amortised over the run's batch.

    uv run python -m bench.tenants [--tenants 200] [--orders 300] [--batch-size 50]

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
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from core import db, migrate
from core.settings import get_settings
from orchestration.assets.ingestion import WAREHOUSE_POOL
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

    _worker_state["job"] = defs().resolve_job_def("tenant_sync")
    _worker_state["instance"] = open_instance(instance_dir)


def _run(request: tuple[str | None, dict[str, str], dict]) -> tuple[bool, float]:
    partition, tags, run_config = request
    started = time.perf_counter()
    result = _worker_state["job"].execute_in_process(
        run_config=run_config,
        partition_key=partition,
        instance=_worker_state["instance"],
        tags=tags,
        raise_on_error=False,
    )
    return result.success, time.perf_counter() - started


def covered(request, order: list[str]) -> int:
    """Tenant partitions a run request covers: one, or its range."""
    if request.partition_key is not None:
        return 1
    start, end = (
        request.tags[ASSET_PARTITION_RANGE_START_TAG],
        request.tags[ASSET_PARTITION_RANGE_END_TAG],
    )
    return order.index(end) - order.index(start) + 1


def cycle(name: str, requests: list, instance, instance_dir: str, workers: int) -> float:
    """Execute one tick's run requests on `workers` processes; emit its figures."""
    from orchestration.partitions import TENANTS

    work = [(r.partition_key, dict(r.tags), r.run_config) for r in requests]
    order = instance.get_dynamic_partitions(TENANTS.name)
    tenants = sum(covered(r, order) for r in requests)
    with ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=_init_worker, initargs=(instance_dir,)
    ) as pool:
        # Workers start (import the code location) before the clock's work is counted.
        list(pool.map(time.sleep, [0.0] * workers))
        started = time.perf_counter()
        results = list(pool.map(_run, work))
    wall = time.perf_counter() - started
    emit(f"{name}_runs", len(requests), "runs")
    emit(f"{name}_tenants", tenants, "tenants")
    emit(f"{name}_cycle_seconds", wall, "s")
    emit(f"{name}_run_seconds_mean", sum(s for _, s in results) / len(results), "s")
    emit(f"{name}_wall_seconds_per_tenant", wall / tenants, "s")
    emit(f"{name}_failed_runs", sum(not ok for ok, _ in results), "runs")
    return wall


def first_tick(instance, batch_size: int) -> list:
    """Every tenant's first sync, as Dagster would run a bulk import: the tenants sensor
    adds the partitions, then one run per batch of them (the worker runs first syncs one
    tenant at a time; this measures the batched path an operator's backfill takes)."""
    from dagster import build_sensor_context

    from orchestration.definitions import defs
    from orchestration.jobs import SyncConfig, sync_run_request
    from orchestration.partitions import TENANTS, batches
    from orchestration.resources import warehouse
    from orchestration.sensors import tenant_partitions

    context = build_sensor_context(
        instance=instance,
        repository_def=defs().get_repository_def(),
        resources={"warehouse": warehouse(get_settings())},
    )
    result = tenant_partitions(context)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    order = instance.get_dynamic_partitions(TENANTS.name)
    return [
        sync_run_request(batch, SyncConfig(), run_key=f"first:{batch[0]}")
        for batch in batches(order, set(order), batch_size)
    ]


def daily_tick(instance) -> list:
    from dagster import build_schedule_context

    from orchestration.definitions import defs

    repository = defs().get_repository_def()
    context = build_schedule_context(
        instance=instance, repository_def=repository, scheduled_execution_time=datetime.now(UTC)
    )
    return list(repository.get_schedule_def("daily_sync").evaluate_tick(context).run_requests)


def run_process_start_seconds() -> float:
    """What a daemon-launched run pays before its first step: a process loading the code
    location (dagster, dlt, dbt, the manifest)."""
    started = time.perf_counter()
    load = "from orchestration.definitions import defs; defs()"
    subprocess.run([sys.executable, "-c", load], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="runs at once (warehouse pool)")
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
                "ORCHESTRATION_BATCH_SIZE": str(args.batch_size),
                "MAX_WAREHOUSE_RUNS": str(args.workers),
            }
        )
        from core import tenants

        listed = httpx.get(f"{sim.base_url}/_sim/shops", timeout=60).json()
        with db.connect(get_settings()) as conn:
            for shop in listed:
                tenants.create(
                    conn,
                    name=shop["domain"],
                    shop_domain=shop["domain"],
                    access_token=shop["token"],
                    settings=get_settings(),
                )
        instance_dir = str(work_dir / "dagster")
        os.makedirs(instance_dir)
        instance = open_instance(instance_dir)
        # Dagster creates a pool's row on first use; two runs starting together on a fresh
        # instance can both try (a unique violation fails one). The daemon's run retry
        # relaunches such a run; executed in process here, it would just count as failed.
        instance.event_log_storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
        emit("tenants", len(listed), "tenants")
        emit("orders_per_tenant", args.orders, "orders")
        emit("batch_size", args.batch_size, "tenants")
        first = first_tick(instance, args.batch_size)
        cycle("first", first, instance, instance_dir, args.workers)
        requests = daily_tick(instance)
        daily = cycle("daily", requests, instance, instance_dir, args.workers)
    start = run_process_start_seconds()
    emit("run_process_start_seconds", start, "s")
    # Each run pays one process start; `workers` runs start side by side.
    per_tenant = (daily + len(requests) * start / args.workers) / len(listed)
    emit("run_process_start_per_tenant_seconds", start / args.batch_size, "s")
    emit("per_tenant_overhead_seconds", per_tenant, "s")
    emit("projected_1000_tenants_daily_minutes", per_tenant * 1000 / 60, "min")


if __name__ == "__main__":
    main()
