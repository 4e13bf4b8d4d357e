"""Run records and the per-tenant lock; tenants sync side by side without mixing rows."""

from __future__ import annotations

import threading

import pytest

from ingestion import runs
from core.locks import NAMESPACE as LOCK_NAMESPACE
from ingestion.sync import SyncBusy, run_sync


def _ids(conn, schema: str, table: str) -> set[int]:
    return {r[0] for r in conn.execute(f'select id from "{schema}"."{table}"').fetchall()}


def test_two_tenants_sync_concurrently_without_sharing_rows(sim, make_tenant, conn):
    shops = [sim.shop(orders=250, rate_limit=False), sim.shop(orders=180, rate_limit=False)]
    pair = [make_tenant(s) for s in shops]
    results: dict[int, runs.SyncRun] = {}

    def sync(i: int) -> None:
        results[i] = run_sync(pair[i].id)

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
            run_sync(tenant.id)
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

    first = run_sync(tenant.id)
    queued = runs.queue(conn, tenant.id, trigger="api")
    second = run_sync(tenant.id, trigger="api", run_id=queued.id)

    assert (second.id, second.trigger, second.status) == (queued.id, "api", "succeeded")
    history = runs.list_runs(conn, tenant.id)
    assert [r.status for r in history] == ["succeeded", "succeeded", "failed"]
    assert history[1].id == first.id
    assert history[2].error == runs.INTERRUPTED
    assert runs.get_run(conn, first.id) == history[1]
    with pytest.raises(runs.RunConflict, match="not queued"):
        run_sync(tenant.id, run_id=first.id)
