"""One sync job, as the worker's child process: ingestion's sync, then the tenant's dbt build.

`python -m api.sync.job TENANT_ID [--run-id ID] [--full-refresh]`. It runs with the
pipeline's credentials (DATABASE_URL, the owner), like `xeno sync` and `xeno transform`;
the build records itself in `app.mart_builds`, which invalidates cached dashboards.
Exit status: 0 success, 1 sync or build failed, 2 nothing to do (run taken elsewhere).
"""

from __future__ import annotations

import argparse
import logging
import sys
import uuid

from core import db, tenants
from core.settings import get_settings
from dbt_project.runner import build_tenant
from ingestion import runs
from ingestion.runs import RunConflict
from ingestion.sync import SyncBusy, SyncFailed, run_sync

log = logging.getLogger("api.sync.job")


def run(tenant_id: uuid.UUID, run_id: uuid.UUID | None, full_refresh: bool) -> int:
    try:
        loaded = run_sync(tenant_id, full_refresh=full_refresh, trigger="api", run_id=run_id)
    except (SyncBusy, RunConflict) as exc:
        log.info("sync skipped: %s", exc)
        return 2
    except SyncFailed as exc:
        log.error("sync failed: %s", exc)
        return 1
    with db.transaction() as conn:
        tenant = tenants.get(conn, tenant_id)
    result = build_tenant(tenant.id, tenant.raw_schema, full_refresh=full_refresh)
    if not result.success:
        error = "transform failed: " + "; ".join(result.failures)
        log.error(error)
        with db.transaction() as conn:  # the retailer sees why the dashboard did not move
            runs.finish(conn, loaded.id, rows=loaded.rows_loaded, error=error)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.sync.job")
    parser.add_argument("tenant_id", type=uuid.UUID)
    parser.add_argument("--run-id", type=uuid.UUID)
    parser.add_argument("--full-refresh", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=get_settings().log_level)
    try:
        return run(args.tenant_id, args.run_id, args.full_refresh)
    finally:
        db.close_pool()


if __name__ == "__main__":
    sys.exit(main())
