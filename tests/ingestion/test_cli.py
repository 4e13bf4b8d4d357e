"""`xeno tenant add` and `xeno sync` as a user runs them, including a kill -9 mid-backfill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

from ingestion import runs
from tests.ingestion.conftest import raw_count


def xeno(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
        check=False,
    )


def test_tenant_add_checks_the_token_then_sync_loads_the_store(sim, ingestion_env, conn):
    shop = sim.shop(orders=60, rate_limit=False)
    common = ("tenant", "add", "--name", "Acme", "--shop", shop["domain"])

    refused = xeno(*common, "--token", "shpat_not_the_token")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"Error: Shopify rejected the access token for {shop['domain']}; nothing was saved"
    ]
    assert (
        conn.execute(
            "select 1 from app.tenants where shop_domain = %s", (shop["domain"],)
        ).fetchone()
        is None
    )

    added = xeno(*common, "--token", shop["token"], "--webhook-secret", shop["webhook_secret"])
    assert added.returncode == 0, added.stderr
    tenant_id = uuid.UUID(added.stdout.strip())

    synced = xeno("sync", str(tenant_id))
    assert synced.returncode == 0, synced.stderr
    assert "extract" in synced.stderr and "points" in synced.stderr
    summary = synced.stdout.strip().splitlines()[-1]
    assert summary.startswith("sync ") and " succeeded in " in summary
    assert f"{sim.count(shop, 'orders/count.json', status='any')} orders" in summary

    listed = xeno("runs", str(tenant_id))
    assert listed.returncode == 0 and "succeeded" in listed.stdout

    unknown = xeno("sync", str(uuid.uuid4()))
    assert unknown.returncode == 1 and unknown.stderr.startswith("Error: no tenant with id")


def test_kill_9_mid_backfill_then_rerun_is_exact(sim, make_tenant, conn):
    shop = sim.shop(orders=3000, rate_limit=False)
    # A slow orders bulk operation: the small resources are loaded while it still runs.
    sim.configure(shop["domain"], "faults", bulk_slow_ms=700)
    tenant = make_tenant(shop)
    process = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "sync", str(tenant.id)],
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while raw_count(conn, tenant.raw_schema, "customers") == 0:  # a first backfill committed
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    customers = sim.count(shop, "customers/count.json")
    assert raw_count(conn, tenant.raw_schema, "customers") == customers
    assert raw_count(conn, tenant.raw_schema, "orders") == 0

    sim.configure(shop["domain"], "faults", bulk_slow_ms=0)
    rerun = subprocess.run(
        [sys.executable, "-m", "core.cli", "sync", str(tenant.id)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    for table, path, params in (
        ("orders", "orders/count.json", {"status": "any"}),
        ("customers", "customers/count.json", {}),
        ("abandoned_checkouts", "checkouts/count.json", {}),
    ):
        total = sim.count(shop, path, **params)
        assert raw_count(conn, tenant.raw_schema, table) == total, table
        assert raw_count(conn, tenant.raw_schema, table, distinct="id") == total, table
    orphans = conn.execute(
        f'select count(*) from "{tenant.raw_schema}".orders__line_items l where not exists '
        f'(select 1 from "{tenant.raw_schema}".orders o where o._dlt_id = l._dlt_root_id)'
    ).fetchone()
    assert orphans == (0,)
    killed, done = sorted(runs.list_runs(conn, tenant.id), key=lambda r: r.requested_at)
    assert (killed.status, killed.error) == ("failed", runs.INTERRUPTED)
    assert done.status == "succeeded"
    # The rerun resumed from the committed loads: customers were not read again in bulk.
    assert done.rows_loaded.get("customers", 0) < customers
    assert done.rows_loaded["orders"] == sim.count(shop, "orders/count.json", status="any")
