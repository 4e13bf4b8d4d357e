"""`xeno transform [TENANT_ID] [--full-refresh]`: build the marts of one tenant or all."""

from __future__ import annotations

import time
import uuid

import click

from core import db, tenants
from dbt_project import runner


@click.command("transform")
@click.argument("tenant_id", required=False, type=click.UUID)
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Reprocess all raw data and replace the tenant's whole slice of every mart.",
)
def transform(tenant_id: uuid.UUID | None, full_refresh: bool) -> None:
    """dbt build of one tenant's marts, or of every tenant (in batches) when no id is given."""
    started = time.monotonic()
    if tenant_id is not None:
        with db.transaction() as conn:
            tenant = tenants.get(conn, tenant_id)
        try:
            results = [runner.build_tenant(tenant.id, tenant.raw_schema, full_refresh=full_refresh)]
        except runner.TransformError as exc:
            raise click.ClickException(str(exc)) from exc
    else:
        results = []
        for result in runner.build_all(full_refresh=full_refresh):
            click.echo(f"{result.tenant_id}: {'ok' if result.success else 'FAILED'}")
            results.append(result)
    failed = [r for r in results if not r.success]
    for result in failed:
        for failure in result.failures:
            click.echo(f"{result.tenant_id}: {failure}", err=True)
    seconds = time.monotonic() - started
    done = len(results) - len(failed)
    summary = f"transformed {done} of {len(results)} tenant(s) in {seconds:.1f}s"
    if failed:
        raise click.ClickException(f"{summary}; {len(failed)} failed")
    click.echo(summary)
