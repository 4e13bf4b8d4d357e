"""`xeno transform [TENANT_ID] [--full-refresh]`: build the marts of one tenant or all;
`xeno export TENANT_ID`: a DuckDB or Parquet snapshot of one tenant's marts;
`xeno docs generate|serve`: the model docs for analysts."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import click

from core import db, tenants
from core.settings import get_settings
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
    settings = get_settings()
    if tenant_id is not None:
        with db.connect(settings) as conn:
            tenant = tenants.get(conn, tenant_id)
        try:
            results = [
                runner.build_tenant(
                    settings, tenant.id, tenant.raw_schema, full_refresh=full_refresh
                )
            ]
        except runner.TransformError as exc:
            raise click.ClickException(str(exc)) from exc
    else:
        results = []
        for result in runner.build_all(settings, full_refresh=full_refresh):
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


@click.command("export")
@click.argument("tenant_id", type=click.UUID)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="The .duckdb file (default xeno-<tenant>.duckdb), or the folder for --format parquet.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["duckdb", "parquet"]),
    default="duckdb",
    show_default=True,
    help="One DuckDB file, or one Parquet file per mart.",
)
@click.option("--force", is_flag=True, help="Replace an existing file.")
def export(tenant_id: uuid.UUID, out: Path | None, fmt: str, force: bool) -> None:
    """Snapshot of one tenant's marts: one table per mart plus a README table."""
    from dbt_project.export import ExportError, export_tenant

    out = out or Path(f"xeno-{tenant_id}" + (".duckdb" if fmt == "duckdb" else ""))
    if fmt == "duckdb" and out.exists() and not force:
        raise click.ClickException(f"{out} exists; give --force to replace it")
    settings = get_settings()
    with db.connect(settings) as conn:
        tenants.get(conn, tenant_id)
    try:
        result = export_tenant(
            tenant_id,
            out,
            url=db.resolve_database_url(settings),
            fmt="parquet" if fmt == "parquet" else "duckdb",
            progress=lambda mart, rows: click.echo(f"{mart}: {rows} rows"),
        )
    except ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    total = sum(result.rows.values())
    click.echo(
        f"exported {len(result.rows)} marts, {total} rows, to {result.path} "
        f"({result.bytes / 1e6:.1f} MB) in {result.seconds:.1f}s"
    )


@click.group("docs")
def docs_group() -> None:
    """Model docs for analysts: every mart's columns, tests and lineage (dbt docs)."""


@docs_group.command("generate")
def docs_generate() -> None:
    """Generate the model docs as one HTML file."""
    from dbt_project import docs

    started = time.monotonic()
    try:
        path = docs.generate(get_settings())
    except runner.TransformError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"model docs written to {path} in {time.monotonic() - started:.1f}s")


@docs_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
def docs_serve(host: str, port: int) -> None:
    """Serve the model docs (generated first if missing) until Ctrl-C."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from dbt_project import docs

    settings = get_settings()
    path = docs.docs_file(settings.data_dir)
    if not path.exists():
        click.echo("generating the model docs first")
        path = docs.generate(settings)

    class Handler(SimpleHTTPRequestHandler):
        """Only the site's one file, at `/`."""

        def do_GET(self) -> None:
            self.path = "/" + path.name
            super().do_GET()

    handler = functools.partial(Handler, directory=str(path.parent))
    with ThreadingHTTPServer((host, port), handler) as server:
        click.echo(f"model docs on http://{host}:{port}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            click.echo("stopped")
