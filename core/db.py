"""Database access: where the warehouse is, and the one way batch code connects to it.

`connect(settings)` is how every job (CLI commands, syncs, dbt builds, the worker,
Dagster assets and sensors) opens a connection; the API keeps its own pools (api/db.py).

With no DATABASE_URL the product still runs on a fresh machine: it uses a local
PostgreSQL if one answers on 127.0.0.1:5432, otherwise it starts an embedded PostgreSQL
(`pgserver`) with its data in DATA_DIR. Either way it provisions a `xeno` role with a
password (dlt's PostgreSQL destination refuses credentials without one) and a `xeno`
database owned by it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from core.settings import Settings

log = logging.getLogger(__name__)

LOCAL_ADMIN_URLS = (
    "postgresql://postgres@127.0.0.1:5432/postgres",
    "postgresql:///postgres",
)
DEV_ROLE = "xeno"
DEV_PASSWORD = "xeno"  # noqa: S105 - development-only role on a local server
DEV_DATABASE = "xeno"

_lock = threading.Lock()
_resolved_url: str | None = None


class DatabaseUnavailable(RuntimeError):
    """No database could be reached or started; the message says what was tried."""


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def local_admin_url() -> str | None:
    """A superuser URL of a PostgreSQL running on this machine, if one answers."""
    return next((url for url in LOCAL_ADMIN_URLS if _answers(url)), None)


def embedded_admin_url(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL under `data_dir/pgdata`."""
    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - pgserver is a declared dependency
        raise DatabaseUnavailable("pgserver is not installed") from exc
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir / "pgdata", cleanup_mode=None)
    return server.get_uri("postgres")


def with_database(
    url: str, dbname: str, *, user: str | None = None, password: str | None = None
) -> str:
    """A `postgresql://` URL to the same server as `url` (URL or key=value form).

    Always a URL, since dlt and dbt take URLs or parts of them, not libpq key=value strings.
    """
    params = conninfo_to_dict(url)
    user = user if user is not None else str(params.get("user") or "")
    password = password if password is not None else str(params.get("password") or "")
    host = str(params.get("host", "") or "")
    port = str(params.get("port", "") or "")
    auth = quote(str(user), safe="")
    if password:
        auth += ":" + quote(str(password), safe="")
    query = {
        k: str(v)
        for k, v in params.items()
        if k not in {"user", "password", "host", "port", "dbname"}
    }
    if host.startswith("/"):  # a Unix socket directory travels as a query parameter
        query["host"] = host
        netloc = f"{auth}@" + (f":{port}" if port else "")
    else:
        netloc = f"{auth}@{host}" + (f":{port}" if port else "")
    suffix = f"?{urlencode(query)}" if query else ""
    return f"postgresql://{netloc}/{quote(dbname, safe='')}{suffix}"


def create_database(
    admin_url: str,
    dbname: str,
    *,
    owner: str = DEV_ROLE,
    password: str = DEV_PASSWORD,
    drop_first: bool = False,
) -> str:
    """Ensure a login role and a database it owns exist; return the role's URL for it."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (owner,)).fetchone()
        verb = "alter" if exists else "create"
        conn.execute(
            sql.SQL(verb + " role {} login createdb createrole password {}").format(
                sql.Identifier(owner), sql.Literal(password)
            )
        )
        if drop_first:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname))
            )
        if not conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone():
            conn.execute(
                sql.SQL("create database {} owner {}").format(
                    sql.Identifier(dbname), sql.Identifier(owner)
                )
            )
    return with_database(admin_url, dbname, user=owner, password=password)


def resolve_database_url(settings: Settings) -> str:
    """DATABASE_URL if set; else provision the development database (local, then embedded)."""
    global _resolved_url
    if settings.database.url:
        return settings.database.url
    with _lock:
        if _resolved_url is None:
            admin = local_admin_url()
            if admin is None:
                log.info("no local PostgreSQL answered; starting the embedded one")
                admin = embedded_admin_url(settings.data_dir)
            _resolved_url = create_database(admin, DEV_DATABASE)
        return _resolved_url


@contextmanager
def connect(settings: Settings, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A connection to the warehouse database, closed on exit.

    Without autocommit the block is one transaction: committed on success, rolled back on
    error. With autocommit each statement commits; `conn.transaction()` groups some.
    """
    with psycopg.connect(resolve_database_url(settings), autocommit=autocommit) as conn:
        yield conn
