"""The `xeno` command line.

Core commands live here; each layer contributes its own through the `xeno.commands`
entry-point group (see pyproject.toml), so this module imports no layer. An entry point
named `group.command` (e.g. `tenant.add`) is attached under that group. Commands of the
design brief whose layer is not built yet answer so plainly and exit non-zero.
"""

from __future__ import annotations

import logging
import sys
from importlib.metadata import entry_points

import click
import psycopg

from core import crypto, db, migrate, tenants
from core.settings import SettingsError, get_settings

# Commands promised by the design brief, and the issue that delivers each.
PLANNED = {
    "tenant.add": "the ingestion issue (#3): it checks the token against the store",
    "sync": "the ingestion issue (#3)",
    "transform": "the transforms issue (#4)",
    "api": "the API issue (#5)",
}


class XenoGroup(click.Group):
    """Turns expected failures into one clear line and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (
            SettingsError,
            db.DatabaseUnavailable,
            migrate.MigrationError,
            tenants.TenantError,
            tenants.TenantNotFound,
            crypto.DecryptionError,
        ) as exc:
            raise click.ClickException(str(exc)) from exc
        except psycopg.OperationalError as exc:
            raise click.ClickException(f"database unreachable: {exc}".strip()) from exc


@click.group(cls=XenoGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log debug output.")
def cli(verbose: bool) -> None:
    """Xeno: Shopify stores into a PostgreSQL warehouse, marts and insights."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else get_settings().log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@cli.group("db")
def db_group() -> None:
    """The application database."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (safe to run any number of times)."""
    url = db.resolve_database_url()
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


@cli.group("tenant")
def tenant_group() -> None:
    """Connected stores."""


@tenant_group.command("list")
def tenant_list() -> None:
    """List every tenant: id, shop domain, name, raw schema."""
    with db.transaction() as conn:
        rows = tenants.list_all(conn)
    for tenant in rows:
        click.echo(f"{tenant.id}  {tenant.shop_domain:<40} {tenant.name}  ({tenant.raw_schema})")
    click.echo(f"{len(rows)} tenant(s)")


@cli.command("dev")
@click.option("--demo", is_flag=True, help="Also run the Shopify simulator with demo shops.")
def dev(demo: bool) -> None:
    """Run the product locally: database, migrations and every built component."""
    from core.devserver import run

    run(demo=demo)


def _placeholder(name: str, arriving_with: str) -> click.Command:
    def not_built() -> None:
        raise click.ClickException(
            f"`xeno {name.replace('.', ' ')}` is not built yet; it arrives with {arriving_with}"
        )

    return click.Command(
        name.rsplit(".", 1)[-1],
        callback=not_built,
        help=f"Not built yet: arrives with {arriving_with}.",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


def _attach(name: str, command: click.Command) -> None:
    """Attach `command` at `name` (`group.command` nests under an existing group)."""
    group: click.Group = cli
    *parents, leaf = name.split(".")
    for parent in parents:
        sub = group.commands.get(parent)
        if not isinstance(sub, click.Group):
            raise RuntimeError(f"entry point {name!r}: no command group {parent!r}")
        group = sub
    group.add_command(command, leaf)


def _load_commands() -> None:
    provided = {ep.name: ep for ep in entry_points(group="xeno.commands")}
    for name, arriving_with in PLANNED.items():
        if name not in provided:
            _attach(name, _placeholder(name, arriving_with))
    for name, ep in provided.items():
        _attach(name, ep.load())


def main() -> None:
    """Console-script entry point."""
    _load_commands()
    cli(prog_name="xeno")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
