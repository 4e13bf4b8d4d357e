"""Dagster's instance folder (DAGSTER_HOME) and its dagster.yaml, made from settings.

Dagster reads limits only as literal numbers from dagster.yaml, so the checked-in
`orchestration/dagster.yaml` is completed from settings and written to DAGSTER_HOME on
each start. Storage: PostgreSQL when DAGSTER_DATABASE_URL is set (the URL stays in the
environment: the file only names the variable), else SQLite files in DAGSTER_HOME.

dagster-postgres needs the psycopg2 driver (its event log sends `NOTIFY` with a bound
parameter, which psycopg 3 refuses), while SQLAlchemy 2.1 picks psycopg 3 for a plain
`postgresql://` URL: so the URL Dagster reads names the driver explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from core.settings import Settings

BASE_CONFIG = Path(__file__).with_name("dagster.yaml")
STORAGE_URL_ENV = "XENO_DAGSTER_STORAGE_URL"


def dagster_home(settings: Settings) -> Path:
    return settings.orchestration.dagster_home or settings.data_dir / "dagster"


def instance_config(settings: Settings) -> dict[str, Any]:
    """The base dagster.yaml with this deployment's limits and storage."""
    config: dict[str, Any] = yaml.safe_load(BASE_CONFIG.read_text())
    runs = config["concurrency"]["runs"]
    runs["max_concurrent_runs"] = 2 * settings.orchestration.max_warehouse_runs
    (per_store,) = runs["tag_concurrency_limits"]
    per_store["limit"] = settings.orchestration.max_runs_per_store
    config["concurrency"]["pools"]["default_limit"] = settings.orchestration.max_warehouse_runs
    if settings.orchestration.dagster_database_url:
        config["storage"] = {"postgres": {"postgres_url": {"env": STORAGE_URL_ENV}}}
    return config


def export_storage_url(settings: Settings) -> None:
    """Put DAGSTER_DATABASE_URL, with the psycopg2 driver named, where dagster.yaml reads it."""
    if settings.orchestration.dagster_database_url:
        _, _, rest = settings.orchestration.dagster_database_url.partition("://")
        os.environ[STORAGE_URL_ENV] = f"postgresql+psycopg2://{rest}"


def prepare_home(settings: Settings) -> Path:
    """Create DAGSTER_HOME, write its dagster.yaml and export the storage URL."""
    export_storage_url(settings)
    home = dagster_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(
        "# Written by `xeno dagster` from orchestration/dagster.yaml and settings.\n"
        + yaml.safe_dump(instance_config(settings), sort_keys=False)
    )
    return home
