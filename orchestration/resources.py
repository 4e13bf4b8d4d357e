"""What the assets need at run time: the warehouse (database, data folder) and dbt.

Nothing here runs at import. The dbt project and its manifest come from `dbt_project()`
and `ensure_manifest()`, the resources from `warehouse()` and `dbt_resource()`: cached
factories that the code location's definitions function (orchestration/definitions.py)
calls when Dagster loads it. `ensure_manifest()` parses the project offline (`dbt parse`
needs no database) only when the manifest is missing, so the definitions load in a fresh
clone; `xeno dagster ...` re-parses on every start so a changed model is never stale.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import psycopg
from dagster import ConfigurableResource, EnvVar
from dagster_dbt import DbtCliResource, DbtProject
from pydantic import Field

from core import db
from core.settings import Settings, get_settings
from core.tenants import Tenant
from dbt_project import runner

DATABASE_URL_ENV = "DATABASE_URL"


@cache
def dbt_project() -> DbtProject:
    return DbtProject(
        project_dir=runner.PROJECT_DIR,
        profiles_dir=runner.PROFILES_DIR,
        # The project's configs render the batch vars, which dbt requires on the command
        # line: parse as the build of an empty batch (the marts bootstrap) does.
        prepare_project_cli_args=["parse", "--quiet", "--vars", runner.batch_vars([])],
    )


def prepare_manifest() -> Path:
    """Parse the dbt project into its manifest (with dagster-dbt's concurrency guard)."""
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    project = dbt_project()
    project.preparer.prepare(project)
    return project.manifest_path


def ensure_manifest() -> Path:
    """The manifest, parsed first if this checkout has none yet or a model, macro or the
    project file changed since (a stale manifest would miss a new model)."""
    path = dbt_project().manifest_path
    if path.exists() and path.stat().st_mtime >= _newest_source():
        return path
    return prepare_manifest()


def _newest_source() -> float:
    sources = [runner.PROJECT_DIR / "dbt_project.yml"]
    for folder in ("models", "macros", "tests"):
        sources += (runner.PROJECT_DIR / folder).rglob("*")
    return max(p.stat().st_mtime for p in sources if p.is_file())


class Warehouse(ConfigurableResource):
    """The product's database and data folder, as the CLI and the API resolve them: the
    one door of assets and sensors to the settings and the database.

    `database_url` is read from the DATABASE_URL environment variable (never shown in
    the UI); empty, it is resolved at run time exactly as every `xeno` command does
    (settings, else the development database).
    """

    database_url: str = Field(
        default="",
        description="PostgreSQL URL of the warehouse; empty: resolved from settings.",
    )
    data_dir: str = Field(description="DATA_DIR: dbt target folders live under it.")

    def settings(self) -> Settings:
        """The run process's settings (read once per process), on this resource's database."""
        loaded = get_settings()
        return loaded.on_database(self.database_url) if self.database_url else loaded

    @contextmanager
    def connect(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        """`core.db.connect` on this warehouse."""
        with db.connect(self.settings(), autocommit=autocommit) as conn:
            yield conn

    def prepare_dbt(self) -> None:
        """Create the shared mart tables if missing and point profiles.yml at the database.

        dagster-dbt runs dbt as a subprocess with this process's environment, so the
        XENO_DB_* variables are exported here (the same for every tenant of a process).
        """
        settings = self.settings()
        url = db.resolve_database_url(settings)
        runner.ensure_marts(settings)
        os.environ.update(runner.dbt_env(url))

    def dbt_target(self, batch: Sequence[Tenant]) -> Path:
        """A dbt target folder per tenant set: dbt re-parses whenever --vars change, so a
        folder per set keeps its partial-parse cache valid between runs of the same set
        (the daily batches repeat while the tenant registry is unchanged)."""
        ids = "".join(t.id.hex for t in batch)
        name = batch[0].id.hex if len(batch) == 1 else hashlib.sha256(ids.encode()).hexdigest()[:32]
        return Path(self.data_dir) / "dagster" / "dbt" / name


def warehouse(settings: Settings) -> Warehouse:
    """The Warehouse resource of these settings. The URL stays an environment variable
    (`xeno dagster` exports the resolved one) so it is never written into run config."""
    url = EnvVar(DATABASE_URL_ENV) if os.environ.get(DATABASE_URL_ENV) else ""
    return Warehouse(database_url=url, data_dir=str(settings.data_dir))


@cache
def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project(), profiles_dir=str(runner.PROFILES_DIR))
