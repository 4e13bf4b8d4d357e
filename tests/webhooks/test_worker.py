"""The worker's promises beyond the happy path: a stop puts its sync back in the queue
once, a new tenant gets one first sync, and a tenant whose build fails fails alone."""

from __future__ import annotations

import signal
import time

import httpx
import psycopg

from core.settings import get_settings
from dbt_project.runner import build_tenants
from ingestion import runs
from ingestion.sync import run_sync
from tests.webhooks.conftest import register_owner
from tests.webhooks.test_apply import deliver, order, wait_until


def run_of(conn: psycopg.Connection, run_id) -> runs.SyncRun:
    run = runs.get_run(conn, run_id)
    assert run is not None
    return run


def in_marts(conn: psycopg.Connection, tenant_id, order_id: int) -> bool:
    row = conn.execute(
        "select count(*) from marts.fct_orders where tenant_id = %s and order_id = %s",
        (tenant_id, order_id),
    ).fetchone()
    return row == (1,)


def test_a_stopped_worker_queues_its_sync_again_once(make_shop, worker_factory, sim, conn):
    shop = make_shop(orders=200)
    # slow pages keep the sync running long enough to stop the worker in the middle
    sim.configure(shop.domain, "faults", slow_rate=1.0, slow_ms=2000)
    run, _ = runs.request(conn, shop.tenant.id, trigger="api")
    worker = worker_factory()
    wait_until(lambda: run_of(conn, run.id).status == "running", 60)
    stopped = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)
    worker.process.wait(15)
    assert time.monotonic() - stopped < 10  # within seconds, mid-sync
    interrupted = run_of(conn, run.id)
    assert interrupted.status == "queued" and runs.INTERRUPTED in (interrupted.error or "")

    sim.configure(shop.domain, "faults", slow_rate=0.0)
    worker_factory()  # the next worker runs it, under the same id
    wait_until(lambda: run_of(conn, run.id).status in {"succeeded", "failed"}, 180)
    finished = run_of(conn, run.id)
    assert finished.status == "succeeded" and finished.error is None
    attempts = conn.execute("select attempts from app.sync_runs where id = %s", (run.id,))
    assert attempts.fetchone() == (2,)


def test_a_new_tenant_gets_one_first_sync(make_shop, worker_factory, sim, conn):
    shop = make_shop(orders=15)
    worker_factory(WORKER_FIRST_SYNCS="true")

    def first_runs() -> list[runs.SyncRun]:
        return [r for r in runs.list_runs(conn, shop.tenant.id) if r.trigger == "first"]

    wait_until(lambda: [r.status for r in first_runs()] == ["succeeded"], 180)
    first_order = sim.records(shop.info, "orders", status="any")[0]["id"]
    wait_until(lambda: in_marts(conn, shop.tenant.id, first_order), 60)  # built after it
    worker_factory(WORKER_FIRST_SYNCS="true")  # a second worker queues no second one
    time.sleep(2)
    assert len(runs.list_runs(conn, shop.tenant.id)) == 1


def test_a_tenant_whose_build_fails_fails_alone(
    make_shop, server_factory, worker_factory, sim, conn
):
    healthy, broken = make_shop(orders=5), make_shop(orders=5)
    for shop in (healthy, broken):
        run_sync(shop.tenant.id, get_settings())
    build_tenants(get_settings(), [(s.tenant.id, s.tenant.raw_schema) for s in (healthy, broken)])
    # the broken store's raw orders no longer cast to money, and every build reads them
    raw = f'"{broken.tenant.raw_schema}".orders'
    conn.execute(f"alter table {raw} alter column total_price type text")
    conn.execute(f"update {raw} set total_price = 'not money', _dlt_load_id = '9999999999.9'")
    server = server_factory()
    worker_factory()
    for n, shop in enumerate((healthy, broken, healthy)):
        deliver(server.url, shop, "orders/create", order(sim, shop, id=9_100_000 + n))
    wait_until(lambda: in_marts(conn, healthy.tenant.id, 9_100_002), 120)
    assert in_marts(conn, healthy.tenant.id, 9_100_000)

    # the healthy tenant keeps flowing while the broken one waits for its retry
    deliver(server.url, healthy, "orders/create", order(sim, healthy, id=9_100_003))
    wait_until(lambda: in_marts(conn, healthy.tenant.id, 9_100_003), 60)
    assert not in_marts(conn, broken.tenant.id, 9_100_001)

    # a user's sync of the broken store ends failed, saying why
    headers, user_id = register_owner(server.url)
    conn.execute(
        "insert into app.memberships (tenant_id, user_id, role) values (%s, %s, 'owner')",
        (broken.tenant.id, user_id),
    )
    headers["x-tenant-id"] = str(broken.tenant.id)
    sync_id = httpx.post(f"{server.url}/api/shopify/sync", headers=headers).json()["syncId"]

    def status() -> dict:
        return httpx.get(f"{server.url}/api/shopify/sync/{sync_id}", headers=headers).json()

    wait_until(lambda: status()["status"] == "failed", 180, why=status)
    assert "transform failed" in status()["error"] and "not money" in status()["error"]


def gauge(server_url: str, name: str) -> float:
    """One sample of /metrics, by its name and labels as printed."""
    for line in httpx.get(f"{server_url}/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in /metrics")


def test_metrics_show_the_worker_queues(server, make_shop, conn):
    shop = make_shop()
    run, _ = runs.request(conn, shop.tenant.id, trigger="api")
    conn.execute(
        "update app.sync_runs set requested_at = now() - interval '1 hour' where id = %s",
        (run.id,),
    )
    assert gauge(server.url, 'xeno_work_queued{queue="syncs"}') >= 1
    assert gauge(server.url, 'xeno_work_oldest_seconds{queue="syncs"}') >= 3600
    conn.execute(
        "update app.sync_runs set status = 'failed', finished_at = now() where id = %s", (run.id,)
    )
