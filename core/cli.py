"""The `xeno` command line.

Core commands live here; each layer contributes its own through the `xeno.commands`
entry-point group (see pyproject.toml), so this module imports no layer. An entry point
named `group.command` (e.g. `tenant.add`) belongs under that group. Layer commands are
imported only when invoked, so `xeno db upgrade` does not pay for loading dbt or Dagster.
"""

from __future__ import annotations

import ast
import importlib.util
import logging
import uuid
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import click
import psycopg

from core import analysts, crypto, db, demo, migrate, tenants
from core.settings import SettingsError, get_settings


class LazyGroup(click.Group):
    """A group that adds the layer commands registered for its path, loading them lazily."""

    def _provided(self, ctx: click.Context) -> dict[str, EntryPoint]:
        prefix = "".join(f"{part}." for part in ctx.command_path.split()[1:])
        found = {}
        for ep in entry_points(group="xeno.commands"):
            leaf = ep.name.removeprefix(prefix)
            if ep.name.startswith(prefix) and "." not in leaf:
                found[leaf] = ep
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._provided(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and (ep := self._provided(ctx).get(cmd_name)) is not None:
            command = ep.load()
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Lists the layer commands from their source's docstrings, without importing them:
        loading one command to print its help line would import dbt, Dagster or dlt."""
        provided = self._provided(ctx)
        limit = formatter.width - 6 - max((len(n) for n in self.list_commands(ctx)), default=0)
        rows = []
        for name in self.list_commands(ctx):
            command = super().get_command(ctx, name)
            if command is not None:
                if not command.hidden:
                    rows.append((name, command.get_short_help_str(limit)))
            else:
                rows.append((name, _short_help(provided[name], limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _short_help(ep: EntryPoint, limit: int) -> str:
    """The first sentence of the entry point's function docstring, read from its source."""
    module, _, attr = ep.value.partition(":")
    top, *rest = module.split(".")
    # the top-level spec only: finding `pkg.mod`'s spec would import `pkg`
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        return ""
    path = Path(next(iter(spec.submodule_search_locations)), *rest).with_suffix(".py")
    if not path.is_file():
        return ""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == attr:
            command = click.Command(None, help=ast.get_docstring(node) or "")
            return command.get_short_help_str(limit)
    return ""


class XenoGroup(LazyGroup):
    """Turns expected failures into one clear line and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (
            SettingsError,
            db.DatabaseUnavailable,
            migrate.MigrationError,
            tenants.TenantError,
            demo.DemoError,
            tenants.TenantNotFound,
            crypto.DecryptionError,
            analysts.AnalystError,
        ) as exc:
            raise click.ClickException(str(exc)) from exc
        except psycopg.OperationalError as exc:
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise click.ClickException(f"database unreachable: {first_line}") from exc


@click.group(cls=XenoGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log debug output.")
def cli(verbose: bool) -> None:
    """Xeno: Shopify stores into a PostgreSQL warehouse, marts and insights."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else get_settings().log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # A line per HTTP request (simulator deliveries, demo polling) drowns the real output.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose else logging.WARNING)


@cli.group("db")
def db_group() -> None:
    """The application database."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (safe to run any number of times)."""
    url = db.resolve_database_url(get_settings())
    done = migrate.upgrade(url)
    for migration in done:
        click.echo(f"applied {migration.version:04d}_{migration.name}")
    click.echo(f"database up to date: {len(done)} migration(s) applied")


@cli.group("secrets")
def secrets_group() -> None:
    """Secrets for production configuration."""


@secrets_group.command("generate")
def secrets_generate() -> None:
    """Print fresh values for ENCRYPTION_KEYS and JWT_SECRET (for a production .env)."""
    import secrets

    click.echo(f"ENCRYPTION_KEYS={crypto.generate_key()}")
    click.echo(f"JWT_SECRET={secrets.token_urlsafe(48)}")


@cli.group("tenant", cls=LazyGroup)
def tenant_group() -> None:
    """Connected stores."""


@tenant_group.command("list")
def tenant_list() -> None:
    """List every tenant: id, shop domain, name, raw schema."""
    with db.connect(get_settings()) as conn:
        rows = tenants.list_all(conn)
    for tenant in rows:
        click.echo(f"{tenant.id}  {tenant.shop_domain:<40} {tenant.name}  ({tenant.raw_schema})")
    click.echo(f"{len(rows)} tenant(s)")


@cli.group("analyst")
def analyst_group() -> None:
    """Per-tenant read-only SQL logins on the marts (docs/analysts.md)."""


@analyst_group.command("grant")
@click.option("--tenant", "tenant_id", required=True, type=click.UUID, help="Tenant id.")
@click.option("--login", required=True, help="PostgreSQL login name (created if new).")
def analyst_grant(tenant_id: uuid.UUID, login: str) -> None:
    """Let LOGIN read the tenant's mart rows; prints its connection string."""
    settings = get_settings()
    with db.connect(settings) as conn:
        tenants.get(conn, tenant_id)
        granted = analysts.grant(conn, tenant_id, login, actor="cli", settings=settings)
    click.echo(granted.connection_url)
    if granted.created:
        click.echo("the password is shown only now: store it in the analyst's password manager")
        click.echo(f"created login {login} with access to tenant {tenant_id}")
    else:
        click.echo(f"login {login} (password unchanged) now has access to tenant {tenant_id}")


@analyst_group.command("revoke")
@click.option("--tenant", "tenant_id", required=True, type=click.UUID, help="Tenant id.")
@click.option("--login", required=True, help="PostgreSQL login name.")
def analyst_revoke(tenant_id: uuid.UUID, login: str) -> None:
    """Take the tenant away from LOGIN, effective on its next query."""
    with db.connect(get_settings()) as conn:
        existed = analysts.revoke(conn, tenant_id, login, actor="cli")
    if not existed:
        raise click.ClickException(f"login {login} has no access to tenant {tenant_id}")
    click.echo(f"revoked tenant {tenant_id} from login {login}")


@analyst_group.command("list")
def analyst_list() -> None:
    """Every analyst login and the tenants it may read."""
    with db.connect(get_settings()) as conn:
        grants = analysts.list_grants(conn)
    for item in grants:
        granted_at = f"{item.granted_at:%Y-%m-%d %H:%M}"
        click.echo(f"{item.login:<24} {item.tenant_id}  {granted_at}  {item.granted_by}")
    click.echo(f"{len(grants)} grant(s) to {len({g.login for g in grants})} login(s)")


@cli.command("dev")
@click.option("--demo", is_flag=True, help="Also run the Shopify simulator with demo shops.")
def dev(demo: bool) -> None:
    """Run the product locally: database, migrations and every built component."""
    from core.devserver import run

    run(get_settings(), demo=demo)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="xeno")


if __name__ == "__main__":  # pragma: no cover
    main()
