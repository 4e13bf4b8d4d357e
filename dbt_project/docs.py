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
from core.settings import get_settings
from dbt_project import runner

STATIC_FILE = "static_index.html"


def docs_dir(data_dir: Path | None = None) -> Path:
    """dbt's folder for the docs build (under DATA_DIR)."""
    return (data_dir or get_settings().data_dir) / "dbt" / "docs"


def docs_file(data_dir: Path | None = None) -> Path:
    """The generated site (it exists once `generate` ran)."""
    return docs_dir(data_dir) / "target" / STATIC_FILE


def generate(url: str | None = None) -> Path:
    """Generate the site against the warehouse (dbt reads the catalog from it)."""
    url = url or db.resolve_database_url()
    runner.ensure_marts(url)
    # An empty batch: docs describe the models, not any tenant's slice.
    args = ["docs", "generate", "--static", "--vars", runner.batch_vars([])]
    result = runner.invoke(args, url=url, work_dir=docs_dir())
    if not result.success:
        raise runner.TransformError(
            "dbt docs generate failed: " + "; ".join(runner.failures(result))
        )
    return docs_file()
