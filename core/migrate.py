"""Versioned SQL migrations for the application schema.

Files `core/migrations/NNNN_name.sql` are applied in order, each in its own transaction
under an advisory lock, and recorded with a checksum: a migration never runs twice, a
failed one leaves nothing behind, and an edited, already-applied file is refused.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 7_242_019_001  # arbitrary constant shared by every migrating process


class MigrationError(RuntimeError):
    """A migration failed or the applied history disagrees with the files."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """All migration files, ordered by version; a malformed name is an error, not skipped."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"migration file name {path.name!r} is not NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a version number")
    return found


def _ensure_history(conn: psycopg.Connection) -> None:
    conn.execute("create schema if not exists app")
    conn.execute("""
        create table if not exists app.schema_migrations (
            version    integer primary key,
            name       text not null,
            checksum   text not null,
            applied_at timestamptz not null default now()
        )""")


def applied(conn: psycopg.Connection) -> dict[int, str]:
    """Applied versions and their checksums (empty if the history table does not exist)."""
    exists = conn.execute("select to_regclass('app.schema_migrations')").fetchone()
    if exists is None or exists[0] is None:
        return {}
    rows = conn.execute("select version, checksum from app.schema_migrations").fetchall()
    return dict(rows)


def pending(conn: psycopg.Connection, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Migrations not yet applied; raises if an applied one was edited since."""
    done = applied(conn)
    for migration in available(directory):
        if migration.version in done and done[migration.version] != migration.checksum:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} changed after it was "
                "applied; add a new migration instead of editing an old one"
            )
    return [m for m in available(directory) if m.version not in done]


def upgrade(url: str, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply every pending migration; return those applied by this call."""
    applied_now: list[Migration] = []
    with psycopg.connect(url) as conn:
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            _ensure_history(conn)
        for migration in available(directory):
            with conn.transaction():
                conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                if migration not in pending(conn, directory):
                    continue
                try:
                    conn.execute(migration.sql)
                except psycopg.Error as exc:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} failed and was "
                        f"rolled back: {exc}"
                    ) from exc
                conn.execute(
                    "insert into app.schema_migrations (version, name, checksum) "
                    "values (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
            applied_now.append(migration)
    return applied_now
