"""Helpers the HTTP benchmarks share: a fresh database the API role can use, a free
port, and percentiles. Benchmarks run as modules (`python -m bench.NAME`)."""

from __future__ import annotations

import socket
from contextlib import suppress

import psycopg

from core import db, migrate


def bench_database(name: str) -> str:
    """A fresh, migrated database on the local server, usable by the `xeno_api` role."""
    admin = db.local_admin_url()
    if admin is None:
        raise SystemExit("benchmarks need a local PostgreSQL on 127.0.0.1:5432")
    url = db.create_database(admin, name, drop_first=True)
    with psycopg.connect(admin, autocommit=True) as conn:
        with suppress(psycopg.errors.DuplicateObject):
            conn.execute("create role xeno_api nologin")
        conn.execute(f"grant xeno_api to {db.DEV_ROLE}")
    migrate.upgrade(url)
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
