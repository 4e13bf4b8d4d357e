"""Analyst logins: per-tenant, read-only PostgreSQL logins on the marts.

The database does the enforcing (migration 0020): a login is a member of `xeno_analyst`,
which may only SELECT the marts, and row-level security shows it the rows of the tenants
listed for it in `app.analyst_grants`. This module is the one Python path to grant,
revoke and list, shared by the CLI and the API, and audits every change in the same
transaction as the change itself.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import datetime

import msgspec
import psycopg
from psycopg.rows import class_row

from core import db
from core.audit import record as audit
from core.settings import Settings

LOGIN = re.compile(r"^[a-z][a-z0-9_]{2,62}$")


class AnalystError(ValueError):
    """Bad login name, unknown tenant, a role that is not an analyst's; safe to show."""


class AnalystGrant(msgspec.Struct, frozen=True):
    login: str
    tenant_id: uuid.UUID
    granted_at: datetime
    granted_by: str


class Granted(msgspec.Struct, frozen=True):
    """A grant's outcome. `password` is set only when the login was created now: it is
    shown once and stored nowhere (the server keeps a SCRAM verifier)."""

    login: str
    tenant_id: uuid.UUID
    created: bool
    password: str | None
    connection_url: str

    def __repr__(self) -> str:
        return f"Granted(login={self.login!r}, tenant_id={self.tenant_id}, created={self.created})"


def validate_login(login: str) -> str:
    """The login name, or AnalystError: a plain lower-case identifier, never a system or
    Xeno role name (the database refuses those too)."""
    if not LOGIN.fullmatch(login) or login.startswith(("pg_", "xeno")):
        raise AnalystError(
            "analyst login must be 3-63 characters of a-z, 0-9 and _, start with a letter "
            "and not start with pg_ or xeno"
        )
    return login


def connection_url(login: str, password: str | None, base_url: str) -> str:
    """The login's URL to the warehouse database at `base_url` (its host, port, TLS options)."""
    dbname = str(psycopg.conninfo.conninfo_to_dict(base_url).get("dbname") or "")
    return db.with_database(base_url, dbname, user=login, password=password or "")


def _database_error(exc: psycopg.Error) -> AnalystError:
    message = exc.diag.message_primary if exc.diag else None
    return AnalystError(message or str(exc))


def grant(
    conn: psycopg.Connection,
    tenant_id: uuid.UUID,
    login: str,
    *,
    actor: str,
    as_owner: bool = False,
    settings: Settings,
    base_url: str | None = None,
) -> Granted:
    """Give `login` read access to the tenant's mart rows, creating the login if new.

    `as_owner`: go through the owner-checked door (`app.owner_grant_analyst`, the caller
    is `app.user_id`), which is all the API role may call.
    """
    validate_login(login)
    password = secrets.token_urlsafe(24)
    # libpq computes the SCRAM verifier: the password never travels or lands in a log.
    verifier = conn.pgconn.encrypt_password(
        password.encode(), login.encode(), b"scram-sha-256"
    ).decode()
    limits = (settings.analysts.connection_limit, settings.analysts.statement_timeout_ms)
    try:
        with conn.transaction():
            if as_owner:
                row = conn.execute(
                    "select app.owner_grant_analyst(%s, %s, %s, %s, %s)",
                    (tenant_id, login, verifier, *limits),
                ).fetchone()
            else:
                row = conn.execute(
                    "select app.grant_analyst(%s, %s, %s, %s, %s, %s)",
                    (tenant_id, login, verifier, actor, *limits),
                ).fetchone()
            created = bool(row and row[0])
            audit(
                conn,
                actor=actor,
                tenant_id=tenant_id,
                action="analyst.granted",
                detail={"login": login, "created": created},
            )
    except (
        psycopg.errors.InvalidParameterValue,
        psycopg.errors.DuplicateObject,
        psycopg.errors.NoDataFound,
        psycopg.errors.UndefinedObject,
    ) as exc:
        raise _database_error(exc) from None
    shown = password if created else None
    return Granted(
        login,
        tenant_id,
        created,
        shown,
        connection_url(login, shown, base_url or db.resolve_database_url(settings)),
    )


def revoke(
    conn: psycopg.Connection,
    tenant_id: uuid.UUID,
    login: str,
    *,
    actor: str,
    as_owner: bool = False,
) -> bool:
    """Take the tenant away from `login` (effective on its next query); False if it had
    no such grant. A login left with no tenant is dropped."""
    function = "app.owner_revoke_analyst" if as_owner else "app.revoke_analyst"
    with conn.transaction():
        row = conn.execute(f"select {function}(%s, %s)", (tenant_id, login)).fetchone()
        existed = bool(row and row[0])
        if existed:
            audit(
                conn,
                actor=actor,
                tenant_id=tenant_id,
                action="analyst.revoked",
                detail={"login": login},
            )
    return existed


def list_grants(conn: psycopg.Connection, tenant_id: uuid.UUID | None = None) -> list[AnalystGrant]:
    """Every grant, or one tenant's, by login."""
    cur = conn.cursor(row_factory=class_row(AnalystGrant))
    return cur.execute(
        "select login, tenant_id, granted_at, granted_by from app.analyst_grants "
        "where %(tenant)s::uuid is null or tenant_id = %(tenant)s "
        "order by login, granted_at",
        {"tenant": tenant_id},
    ).fetchall()
