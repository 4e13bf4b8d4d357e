"""What the assets need at run time: the warehouse (tenants, database) and dbt.

The dbt project is the one `xeno transform` runs; Dagster needs its manifest to know the
models before anything runs. `ensure_manifest()` parses the project offline (`dbt parse`
needs no database) when the manifest is missing, so the definitions load in a fresh
clone; `xeno dagster ...` re-parses on every start so a changed model is never stale.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource, DbtProject

from core import db, tenants
from core.settings import get_settings
from dbt_project import runner

DBT_PROJECT = DbtProject(
    project_dir=runner.PROJECT_DIR,
    profiles_dir=runner.PROFILES_DIR,
    # The project's configs render `var('tenant_id')`, which dbt requires on the command
    # line: parse as the build for no tenant does.
    prepare_project_cli_args=[
        "parse",
        "--quiet",
        "--vars",
        runner.tenant_vars(runner.NO_TENANT, runner.BOOTSTRAP_SCHEMA),
    ],
)


def prepare_manifest() -> Path:
    """Parse the dbt project into its manifest (with dagster-dbt's concurrency guard)."""
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    DBT_PROJECT.preparer.prepare(DBT_PROJECT)
    return DBT_PROJECT.manifest_path


def ensure_manifest() -> Path:
    """The manifest, parsed first if this checkout has none yet."""
    if DBT_PROJECT.manifest_path.exists():
        return DBT_PROJECT.manifest_path
    return prepare_manifest()


class Warehouse(ConfigurableResource):
    """The product's database, resolved exactly as the CLI and the API resolve it."""

    def url(self) -> str:
        return db.resolve_database_url()

    def tenant(self, tenant_id: uuid.UUID) -> tenants.Tenant:
        with db.transaction() as conn:
            return tenants.get(conn, tenant_id)

    def prepare_dbt(self) -> None:
        """Create the shared mart tables if missing and point profiles.yml at the database.

        dagster-dbt runs dbt as a subprocess with this process's environment, so the
        XENO_DB_* variables are exported here (the same for every tenant of a process).
        """
        url = self.url()
        runner.ensure_marts(url)
        os.environ.update(runner.dbt_env(url))

    def dbt_target(self, tenant_id: uuid.UUID) -> Path:
        """Per-tenant dbt target folder: dbt re-parses whenever --vars change, so a folder
        per tenant keeps its partial-parse cache valid between that tenant's runs."""
        return get_settings().data_dir / "dagster" / "dbt" / tenant_id.hex


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, profiles_dir=str(runner.PROFILES_DIR))
