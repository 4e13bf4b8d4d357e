"""The per-tenant lock: one sync or webhook batch of a tenant at a time, across processes.

A PostgreSQL session advisory lock, keyed (namespace, hashtext(tenant id)): the server
releases it when the holding session ends, so a killed process never leaves a tenant
locked. Everything that writes a tenant's raw tables (a sync, a webhook batch) holds it;
a worker claiming work passes over tenants whose lock is taken (`CLAIMABLE`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

NAMESPACE = 0x58454E4F  # "XENO": first key of the two-key advisory lock
# A claim query's condition, true for a row whose tenant is not locked by another
# session (it takes the lock for the claiming transaction only); parameter: NAMESPACE.
CLAIMABLE = "pg_try_advisory_xact_lock(%s, hashtext({tenant}::text))"


def try_lock(conn: psycopg.Connection, tenant_id: uuid.UUID) -> bool:
    """Take the tenant's lock for this session, or answer False if another session has it."""
    row = conn.execute(
        "select pg_try_advisory_lock(%s, hashtext(%s))", (NAMESPACE, str(tenant_id))
    ).fetchone()
    return bool(row and row[0])


def unlock(conn: psycopg.Connection, tenant_id: uuid.UUID) -> None:
    conn.execute("select pg_advisory_unlock(%s, hashtext(%s))", (NAMESPACE, str(tenant_id)))


@contextmanager
def held(conn: psycopg.Connection, tenant_id: uuid.UUID) -> Iterator[bool]:
    """`with held(conn, tenant) as locked:` — the lock for the block, if it was free."""
    locked = try_lock(conn, tenant_id)
    try:
        yield locked
    finally:
        if locked and not conn.closed:
            unlock(conn, tenant_id)
