"""Shared fixtures: every test session runs against its own fresh PostgreSQL database.

The server is the one the product itself would use (TEST_ADMIN_DATABASE_URL, else a local
PostgreSQL, else the embedded one), so `uv run pytest` needs no set-up beforehand.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from core import db, migrate
from core.settings import get_settings


def _admin_url() -> str:
    explicit = os.environ.get("TEST_ADMIN_DATABASE_URL")
    if explicit:
        return explicit
    return db.local_admin_url() or db.embedded_admin_url(get_settings().data_dir)


@pytest.fixture(scope="session")
def admin_url() -> str:
    return _admin_url()


@pytest.fixture(scope="session")
def make_database(admin_url: str) -> Iterator:
    """Factory for throw-away databases, all dropped when the session ends."""
    created: list[str] = []

    def make() -> str:
        name = f"xeno_test_{uuid.uuid4().hex[:12]}"
        created.append(name)
        return db.create_database(admin_url, name)

    yield make
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in created:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def database_url(make_database, tmp_path_factory) -> Iterator[str]:
    """A migrated database that the product's own settings point at for this session."""
    url = make_database()
    migrate.upgrade(url)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    yield url
    if previous is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = previous
    get_settings.cache_clear()


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    """A connection to the session database (tests use unique data, not rollbacks)."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection
