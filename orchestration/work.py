"""Xeno's jobs, each composed once: sync a tenant, build a batch, apply webhooks, erase.

Plain functions over ingestion and dbt, with no scheduler in them: the worker
(`xeno worker`, orchestration/worker.py) runs them for the live loop, Dagster's assets
call the same ones for the daily cycle and operators' runs. A failure is recorded one
way: a failed sync on its `app.sync_runs` row (ingestion.sync), a failed build on the
tenant's loaded syncs (`close_failed_builds`), a failed webhook on its event.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core import db, tenants
from core.settings import Settings
from core.tenants import Tenant, TenantNotFound
from dbt_project import runner
from ingestion import runs
from ingestion.runs import RunConflict, SyncRun
from ingestion.sync import SyncBusy, SyncFailed, run_sync
from ingestion.webhook_privacy import purge_due
from ingestion.webhooks import TenantApplied, apply_all_pending

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TenantSync:
    """One tenant's sync outcome: its finished run, and the error if it failed."""

    tenant_id: uuid.UUID
    run: SyncRun | None = None
    error: str | None = None
    # Whether waiting may heal it: another sync holds the tenant, the database was away.
    retryable: bool = False
    # Another sync of the tenant was running (it rebuilds the marts): skipped, not failed.
    busy: bool = False


def sync_tenant(
    tenant_id: uuid.UUID,
    settings: Settings,
    *,
    trigger: str,
    run_id: uuid.UUID | None = None,
    full_refresh: bool = False,
) -> TenantSync:
    """`run_sync` of one tenant, its failures sorted into retryable and final; never raises
    for one tenant's failure, so a batch's other tenants carry on."""
    try:
        run = run_sync(
            tenant_id, settings, full_refresh=full_refresh, trigger=trigger, run_id=run_id
        )
    except SyncBusy as exc:
        return TenantSync(tenant_id, error=str(exc), retryable=True, busy=True)
    except (RunConflict, TenantNotFound) as exc:
        return TenantSync(tenant_id, error=str(exc))
    except SyncFailed as exc:
        # A requested sync's row is now `failed` and is what the retailer sees; a retry
        # would record a second run behind it, so only unrequested syncs retry.
        return TenantSync(tenant_id, exc.run, str(exc), retryable=run_id is None)
    except Exception as exc:  # isolated: the batch's other tenants still sync and build
        log.exception("sync of tenant %s failed", tenant_id)
        return TenantSync(tenant_id, error=f"{type(exc).__name__}: {exc}", retryable=True)
    return TenantSync(tenant_id, run)


def existing(settings: Settings, tenant_ids: Sequence[uuid.UUID]) -> list[Tenant]:
    """The tenants of `tenant_ids` that still exist, in the same order."""
    found = []
    with db.connect(settings) as conn:
        for tenant_id in tenant_ids:
            try:
                found.append(tenants.get(conn, tenant_id))
            except TenantNotFound:
                continue  # deleted since the work was requested: nothing to do
    return found


def close_failed_builds(settings: Settings, failed: Mapping[uuid.UUID, str]) -> None:
    """Record failed builds where the retailer looks: on the tenants' loaded syncs."""
    if not failed:
        return
    with db.connect(settings) as conn:
        for tenant_id, reason in failed.items():
            runs.fail_unbuilt(conn, tenant_id, f"transform failed: {reason}")


def build(
    settings: Settings, batch: Sequence[Tenant], *, full_refresh: bool = False
) -> dict[uuid.UUID, str]:
    """One dbt build of the batch's mart slices (split in halves while it fails); the
    tenants that still failed, and why. Built tenants are recorded (app.mart_builds)."""
    if not batch:
        return {}
    try:
        results = runner.build_tenants(
            settings, [(t.id, t.raw_schema) for t in batch], full_refresh=full_refresh
        )
        failed = {r.tenant_id: "; ".join(r.failures) for r in results if not r.success}
    except Exception as exc:  # dbt could not run at all: every tenant of the batch failed
        log.exception("build of %d tenant(s) failed", len(batch))
        failed = {t.id: f"{type(exc).__name__}: {exc}" for t in batch}
    close_failed_builds(settings, failed)
    return failed


def apply_webhooks(tenant_id: uuid.UUID, settings: Settings) -> TenantApplied:
    """Apply one tenant's due webhooks to its raw tables; one tenant's failure is its own."""
    try:
        return apply_all_pending(tenant_id, settings)
    except Exception:  # recorded on the events when it can be; never stops other tenants
        log.exception("webhooks of tenant %s failed", tenant_id)
        return TenantApplied(ok=False)


def erase_due(settings: Settings) -> list[uuid.UUID]:
    """Erase every tenant whose scheduled deletion (privacy request, uninstall) is due."""
    erased = purge_due(settings)
    if erased:
        log.info("erased %d tenant(s): %s", len(erased), ", ".join(map(str, erased)))
    return erased
