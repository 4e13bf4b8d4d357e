"""`xeno tenant add`, `xeno sync` and `xeno runs` (attached through `xeno.commands`).

Every `xeno` invocation loads these commands, so dlt (over a second to import) is
imported only by the commands that use it.
"""

from __future__ import annotations

import sys
import time
import uuid
from typing import TextIO

import click

from core import db, tenants
from core.settings import get_settings
from ingestion.progress import ProgressEvent
from ingestion.runs import RunConflict, SyncRun, list_runs


@click.command("add")
@click.option("--name", required=True, help="Display name of the store.")
@click.option("--shop", required=True, help="The store's your-store.myshopify.com domain.")
@click.option("--token", required=True, help="Admin API access token of the store.")
@click.option("--webhook-secret", default=None, help="Secret the store signs webhooks with.")
@click.option("--owner", default=None, help="Email of an existing user to make the owner.")
def tenant_add(
    name: str, shop: str, token: str, webhook_secret: str | None, owner: str | None
) -> None:
    """Connect a store: check its token (read its `shop`), save it encrypted, print the id."""
    from ingestion.graphql import ShopifyAuthError, ShopifyError, fetch_shop

    settings = get_settings()
    domain = tenants.validate_shop_domain(shop)
    try:
        info = fetch_shop(domain, token, settings)
    except ShopifyAuthError as exc:
        raise click.ClickException(
            f"Shopify rejected the access token for {domain}; nothing was saved"
        ) from exc
    except ShopifyError as exc:
        raise click.ClickException(f"could not check {domain}: {exc}; nothing was saved") from exc
    with db.connect(settings) as conn:
        owner_id = tenants.user_id_by_email(conn, owner) if owner else None
        tenant = tenants.create(
            conn,
            name=name,
            shop_domain=domain,
            access_token=token,
            webhook_secret=webhook_secret,
            settings=settings,
            owner_id=owner_id,
            actor="cli",
        )
    click.echo(
        f"connected {domain} ({info.get('currencyCode')}, {info.get('ianaTimezone')}) "
        f"as tenant {tenant.id}; raw schema {tenant.raw_schema}",
        err=True,
    )
    click.echo(str(tenant.id))


class ProgressPrinter:
    """Progress on stderr: one rewritten line on a terminal, a line every few seconds else."""

    def __init__(self, stream: TextIO, interval: float = 2.0) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._interval = 0.1 if self._tty else interval
        self._last = 0.0
        self._phase = ""

    def __call__(self, event: ProgressEvent) -> None:
        now = time.monotonic()
        if event.phase == self._phase and now - self._last < self._interval:
            return
        self._phase, self._last = event.phase, now
        of = f"/{event.expected:,}" if event.expected is not None else ""
        read = f"bulk {event.bulk_status}" if event.bulk_status else f"{event.pages:,} pages"
        line = (
            f"{event.phase:<9} {event.resource or 'all':<19} {read:>14} "
            f"{event.records:>10,}{of} records | {event.requests_per_second:5.1f} req/s | "
            f"points {event.bucket_used}/{event.bucket_capacity} | {event.throttled} throttled"
        )
        self._stream.write(f"\r{line}\x1b[K" if self._tty else f"{line}\n")
        self._stream.flush()

    def close(self) -> None:
        if self._tty and self._phase:
            self._stream.write("\n")


def summary(run: SyncRun) -> str:
    """`sync <id> succeeded in 3.1 s: 120 customers, 300 orders, ...`."""
    assert run.started_at is not None and run.finished_at is not None
    seconds = (run.finished_at - run.started_at).total_seconds()
    loaded = ", ".join(f"{n:,} {t}" for t, n in sorted(run.rows_loaded.items())) or "nothing new"
    return f"sync {run.id} {run.status} in {seconds:.1f} s: {loaded}"


@click.command("sync")
@click.argument("tenant_id", type=click.UUID)
@click.option("--full-refresh", is_flag=True, help="Drop the raw schema and load everything.")
@click.option(
    "--reconcile", is_flag=True, help="Also flag records deleted in the store (as daily)."
)
def sync(tenant_id: uuid.UUID, full_refresh: bool, reconcile: bool) -> None:
    """Load one tenant's store into its raw schema (incremental unless --full-refresh)."""
    from ingestion.sync import SyncError, run_sync

    printer = ProgressPrinter(sys.stderr)
    try:
        run = run_sync(
            tenant_id,
            get_settings(),
            full_refresh=full_refresh,
            reconcile=reconcile,
            trigger="cli",
            progress=printer,
        )
    except (SyncError, RunConflict) as exc:
        printer.close()
        raise click.ClickException(str(exc)) from exc
    printer.close()
    click.echo(summary(run))


@click.command("runs")
@click.argument("tenant_id", type=click.UUID)
@click.option("--limit", default=10, show_default=True, help="How many recent runs.")
def sync_runs(tenant_id: uuid.UUID, limit: int) -> None:
    """Recent syncs of a tenant: id, trigger, status, start, duration, rows, error."""
    with db.connect(get_settings()) as conn:
        tenants.get(conn, tenant_id)
        rows = list_runs(conn, tenant_id, limit=limit)
    for run in rows:
        started = run.started_at.isoformat(timespec="seconds") if run.started_at else "-"
        took = (
            f"{(run.finished_at - run.started_at).total_seconds():.1f}s"
            if run.started_at and run.finished_at
            else "-"
        )
        total = sum(run.rows_loaded.values())
        click.echo(
            f"{run.id}  {run.trigger:<8} {run.status:<9} {started}  {took:>8}  {total:>9,} rows"
            + (f"  {run.error}" if run.error else "")
        )
    click.echo(f"{len(rows)} run(s)")
