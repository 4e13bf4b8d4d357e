"""Model docs for analysts: dbt's documentation site (every mart's columns, descriptions,
tests and lineage) as one self-contained HTML file (`dbt docs generate --static`).

One file, not dbt's folder of index.html + manifest.json + catalog.json, so the API can
hand it out behind login as a download and `xeno docs serve` needs no dbt server. The
catalog dbt writes for PostgreSQL holds column types and comments, no row counts, so the
file says nothing about any tenant's data.
"""

from __future__ import annotations

from pathlib import Path

from core import db
from core.settings import Settings
from dbt_project import runner
from dbt_project.layout import docs_dir, docs_file


def generate(settings: Settings) -> Path:
    """Generate the site against the warehouse (dbt reads the catalog from it)."""
    runner.ensure_marts(settings)
    # An empty batch: docs describe the models, not any tenant's slice.
    args = ["docs", "generate", "--static", "--vars", runner.batch_vars([])]
    url = db.resolve_database_url(settings)
    result = runner.invoke(args, url=url, work_dir=docs_dir(settings.data_dir))
    if not result.success:
        raise runner.TransformError(
            "dbt docs generate failed: " + "; ".join(runner.failures(result))
        )
    return docs_file(settings.data_dir)
