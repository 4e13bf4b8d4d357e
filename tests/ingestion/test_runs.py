"""Run records and the per-tenant lock; tenants sync side by side without mixing rows."""

from __future__ import annotations

import threading

import psycopg
import pytest

from core import locks
from core.locks import NAMESPACE as LOCK_NAMESPACE
from core.settings import get_settings
from ingestion import runs
from ingestion.sync import SyncBusy, run_sync


def _ids(conn, schema: str, table: str) -> set[int]:
    return {r[0] for r in conn.execute(f'select id from "{schema}"."{table}"').fetchall()}


def test_two_tenants_sync_concurrently_without_sharing_rows(sim, make_tenant, conn):
    shops = [sim.shop(orders=250, rate_limit=False), sim.shop(orders=180, rate_limit=False)]
    pair = [make_tenant(s) for s in shops]
    results: dict[int, runs.SyncRun] = {}

    def sync(i: int) -> None:
        results[i] = run_sync(pair[i].id, get_settings())

    threads = [threading.Thread(target=sync, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [results[i].status for i in range(2)] == ["succeeded", "succeeded"]
    for table, resource, params in (
        ("orders", "orders", {"status": "any"}),
        ("customers", "customers", {}),
        ("products", "products", {}),
    ):
        loaded = [_ids(conn, t.raw_schema, table) for t in pair]
        truth = [{r["id"] for r in sim.records(s, resource, **params)} for s in shops]
        assert loaded == truth, table
        assert not loaded[0] & loaded[1]


def test_a_second_sync_of_a_tenant_waits_its_turn(sim, make_tenant, conn):
    tenant = make_tenant(sim.shop(orders=20, rate_limit=False))
    conn.execute("select pg_advisory_lock(%s, hashtext(%s))", (LOCK_NAMESPACE, str(tenant.id)))
    try:
        with pytest.raises(SyncBusy, match="already running"):
            run_sync(tenant.id, get_settings())
    finally:
        conn.execute(
            "select pg_advisory_unlock(%s, hashtext(%s))", (LOCK_NAMESPACE, str(tenant.id))
        )
    assert runs.list_runs(conn, tenant.id) == []


def test_a_killed_runs_row_is_closed_and_a_queued_run_is_executed(sim, make_tenant, conn):
    tenant = make_tenant(sim.shop(orders=30, rate_limit=False))
    conn.execute(
        "insert into app.sync_runs (tenant_id, trigger, status, started_at) "
        "values (%s, 'cli', 'running', now())",
        (tenant.id,),
    )
    with pytest.raises(runs.RunConflict):
        runs.queue(conn, tenant.id, trigger="api")

    first = run_sync(tenant.id, get_settings())
    queued = runs.queue(conn, tenant.id, trigger="api")
    second = run_sync(tenant.id, get_settings(), trigger="api", run_id=queued.id)

    assert (second.id, second.trigger, second.status) == (queued.id, "api", "succeeded")
    history = runs.list_runs(conn, tenant.id)
    assert [r.status for r in history] == ["succeeded", "succeeded", "failed"]
    assert history[1].id == first.id
    assert history[2].error == runs.INTERRUPTED
    assert runs.get_run(conn, first.id) == history[1]
    with pytest.raises(runs.RunConflict, match="not queued"):
        run_sync(tenant.id, get_settings(), run_id=first.id)


def _settle(conn, tenant_id) -> None:
    conn.execute(
        "update app.sync_runs set status = 'failed', finished_at = now() "
        "where tenant_id = %s and status in ('queued', 'running')",
        (tenant_id,),
    )


def _claim(conn, triggers: tuple[str, ...], only) -> object:
    """The id of the run a claim returns when every tenant but `only` is excluded."""
    others = {
        r[0]
        for r in conn.execute(
            "select tenant_id from app.sync_runs where status = 'queued' and tenant_id <> %s",
            (only,),
        )
    }
    run = runs.claim(conn, triggers, exclude=others)
    return run.id if run else None


def test_requests_coalesce_and_claims_pass_over_busy_tenants(sim, make_tenant, conn, database_url):
    tenant = make_tenant(sim.shop(orders=1, rate_limit=False))
    first, created = runs.request(conn, tenant.id, trigger="api")
    again, created_again = runs.request(conn, tenant.id, trigger="api", full_refresh=True)
    assert created and not created_again and again.id == first.id  # one pending unit
    assert tenant.id not in runs.queue_first_syncs(conn)  # it has a run already
    assert _claim(conn, ("api",), tenant.id) == first.id
    assert _claim(conn, ("first",), tenant.id) is None  # a first-sync lane leaves it alone
    with psycopg.connect(database_url, autocommit=True) as other, locks.held(other, tenant.id):
        assert _claim(conn, ("api",), tenant.id) is None  # its tenant is being synced
    assert _claim(conn, ("api",), tenant.id) == first.id
    _settle(conn, tenant.id)


def test_a_new_tenant_gets_exactly_one_first_sync(sim, make_tenant, conn):
    tenant = make_tenant(sim.shop(orders=1, rate_limit=False))
    assert tenant.id in runs.queue_first_syncs(conn)
    assert tenant.id not in runs.queue_first_syncs(conn)
    (run,) = runs.list_runs(conn, tenant.id)
    assert (run.trigger, run.status) == ("first", "queued")
    _settle(conn, tenant.id)
    assert tenant.id not in runs.queue_first_syncs(conn)  # even after it ended


def test_interrupted_runs_are_queued_again_once(sim, make_tenant, conn, database_url):
    tenant = make_tenant(sim.shop(orders=1, rate_limit=False))
    run, _ = runs.request(conn, tenant.id, trigger="api")
    running = "update app.sync_runs set status = 'running', started_at = now(), attempts = %s "
    conn.execute(running + "where id = %s", (1, run.id))
    with psycopg.connect(database_url, autocommit=True) as other, locks.held(other, tenant.id):
        assert run.id not in {r.id for r in runs.requeue_interrupted(conn)}  # alive elsewhere
    requeued = {r.id: r for r in runs.requeue_interrupted(conn)}[run.id]
    assert requeued.status == "queued" and "interrupted" in (requeued.error or "")
    conn.execute(running + "where id = %s", (2, run.id))
    closed = {r.id: r for r in runs.requeue_interrupted(conn)}[run.id]
    assert closed.status == "failed" and closed.error == runs.INTERRUPTED
