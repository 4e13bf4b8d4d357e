"""What the assets need at run time: the warehouse (tenants, database) and dbt.

The dbt project is the one `xeno transform` runs; Dagster needs its manifest to know the
models before anything runs. `ensure_manifest()` parses the project offline (`dbt parse`
needs no database) when the manifest is missing, so the definitions load in a fresh
clone; `xeno dagster ...` re-parses on every start so a changed model is never stale.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource, DbtProject

from core import db, tenants
from core.settings import get_settings
from dbt_project import runner

DBT_PROJECT = DbtProject(
    project_dir=runner.PROJECT_DIR,
    profiles_dir=runner.PROFILES_DIR,
    # The project's configs render the batch vars, which dbt requires on the command line:
    # parse as the build of an empty batch (the marts bootstrap) does.
    prepare_project_cli_args=["parse", "--quiet", "--vars", runner.batch_vars([])],
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

    def tenants(self, partition_keys: Sequence[str]) -> list[tenants.Tenant]:
        """The tenants of these partitions that still exist, in the same order."""
        found = []
        with db.transaction() as conn:
            for key in partition_keys:
                try:
                    found.append(tenants.get(conn, uuid.UUID(key)))
                except tenants.TenantNotFound:
                    continue  # deleted since the run was requested: nothing to build
        return found

    def prepare_dbt(self) -> None:
        """Create the shared mart tables if missing and point profiles.yml at the database.

        dagster-dbt runs dbt as a subprocess with this process's environment, so the
        XENO_DB_* variables are exported here (the same for every tenant of a process).
        """
        url = self.url()
        runner.ensure_marts(url)
        os.environ.update(runner.dbt_env(url))

    def dbt_target(self, batch: Sequence[tenants.Tenant]) -> Path:
        """A dbt target folder per tenant set: dbt re-parses whenever --vars change, so a
        folder per set keeps its partial-parse cache valid between runs of the same set
        (the daily batches repeat while the tenant registry is unchanged)."""
        ids = "".join(t.id.hex for t in batch)
        name = batch[0].id.hex if len(batch) == 1 else hashlib.sha256(ids.encode()).hexdigest()[:32]
        return get_settings().data_dir / "dagster" / "dbt" / name


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, profiles_dir=str(runner.PROFILES_DIR))
