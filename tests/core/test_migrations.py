"""Migrations: up from empty, idempotent, atomic, tamper-evident, safe under concurrency."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import psycopg
import pytest

from core import migrate

# Tables of the first migration; later migrations may add more.
APP_TABLES = {"users", "tenants", "memberships", "sync_runs", "audit_log", "schema_migrations"}


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'app'"
        ).fetchall()
    return {r[0] for r in rows}


def _copy_migrations(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, target)
    return target


def test_upgrade_from_empty_creates_app_schema_then_is_idempotent(make_database):
    url = make_database()
    first = migrate.upgrade(url)
    assert [m.version for m in first] == [m.version for m in migrate.available()]
    assert _tables(url) >= APP_TABLES
    assert migrate.upgrade(url) == []
    with psycopg.connect(url) as conn:
        assert migrate.pending(conn) == []
        count = conn.execute("select count(*) from app.schema_migrations").fetchone()[0]
    assert count == len(first)


def test_failed_migration_leaves_nothing_half_applied(make_database, tmp_path):
    url = make_database()
    directory = _copy_migrations(tmp_path)
    (directory / "9001_half_done.sql").write_text(
        "create table app.half_done (id int);\nselect * from no_such_table;\n"
    )
    with pytest.raises(migrate.MigrationError, match="9001_half_done failed"):
        migrate.upgrade(url, directory)
    assert "half_done" not in _tables(url)
    with psycopg.connect(url) as conn:
        assert 9001 not in migrate.applied(conn)
        assert [m.version for m in migrate.pending(conn, directory)] == [9001]
    # earlier migrations did commit: the failure only rolled back its own transaction
    assert _tables(url) >= APP_TABLES


def test_edited_applied_migration_is_refused(make_database, tmp_path):
    url = make_database()
    directory = _copy_migrations(tmp_path)
    migrate.upgrade(url, directory)
    first = sorted(directory.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(migrate.MigrationError, match="changed after it was applied"):
        migrate.upgrade(url, directory)


def test_malformed_file_name_is_an_error(tmp_path):
    (tmp_path / "add_things.sql").write_text("select 1;")
    with pytest.raises(migrate.MigrationError, match=r"NNNN_name\.sql"):
        migrate.available(tmp_path)


def test_concurrent_upgrades_apply_each_migration_once(make_database):
    url = make_database()
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(len(migrate.upgrade(url)))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # Each migration is its own transaction under the lock, so the threads may share the
    # work; what must hold is that every migration ran exactly once.
    assert sum(results) == len(migrate.available())
    with psycopg.connect(url) as conn:
        versions = [v for (v,) in conn.execute("select version from app.schema_migrations")]
    assert sorted(versions) == [m.version for m in migrate.available()]
