"""Where the dbt project and its marts are, without importing dbt.

The API (snapshots, model docs) and the runner both need the mart names, the marts
schema and where the model docs are; only the runner needs dbt itself, a heavy import
(two seconds) the API process never pays.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent
PROFILES_DIR = PROJECT_DIR.parent
MART_MODELS = tuple(sorted(p.stem for p in (PROJECT_DIR / "models" / "marts").glob("*.sql")))


def marts_schema() -> str:
    """The schema of the shared mart tables (XENO_MARTS_SCHEMA, default `marts`)."""
    return os.environ.get("XENO_MARTS_SCHEMA", "marts")


def docs_dir(data_dir: Path) -> Path:
    """dbt's folder for the model docs build (under DATA_DIR)."""
    return data_dir / "dbt" / "docs"


def docs_file(data_dir: Path) -> Path:
    """The generated model docs site, one HTML file (it exists once generated)."""
    return docs_dir(data_dir) / "target" / "static_index.html"
