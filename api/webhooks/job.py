"""One pass of the webhook worker, as a child process: apply, rebuild marts, erase due tenants.

`python -m api.webhooks.job [TENANT_ID ...]` (default: every tenant with events due). It
runs with the pipeline's credentials (DATABASE_URL), like `api.sync.job`.
Exit status: 0 done, 1 some batch or build failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import uuid

from core import db, tenants
from core.settings import get_settings
from dbt_project.runner import build_tenant
from ingestion.webhook_privacy import purge_due
from ingestion.webhooks import apply_all_pending, tenants_with_pending

log = logging.getLogger("api.webhooks.job")


def apply_tenant(tenant_id: uuid.UUID) -> bool:
    """Apply every due batch of one tenant, then rebuild its marts if anything changed."""
    applied = apply_all_pending(tenant_id)
    if not applied.changed:
        return applied.ok
    with db.transaction() as conn:
        tenant = tenants.get(conn, tenant_id)
    result = build_tenant(tenant.id, tenant.raw_schema)
    if not result.success:
        log.error("transform failed: %s", "; ".join(result.failures))
        return False
    return applied.ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.webhooks.job")
    parser.add_argument("tenant_ids", nargs="*", type=uuid.UUID)
    args = parser.parse_args(argv)
    logging.basicConfig(level=get_settings().log_level)
    try:
        ok = all([apply_tenant(t) for t in args.tenant_ids or tenants_with_pending()])
        purge_due()
        return 0 if ok else 1
    finally:
        db.close_pool()


if __name__ == "__main__":
    sys.exit(main())
