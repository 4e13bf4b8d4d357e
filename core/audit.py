"""The audit log: who did what to which tenant, append-only."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


def record(
    conn: psycopg.Connection,
    *,
    actor: str,
    action: str,
    tenant_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry in the caller's transaction (so it commits with the action)."""
    conn.execute(
        "insert into app.audit_log (actor, tenant_id, action, detail) values (%s, %s, %s, %s)",
        (actor, tenant_id, action, Jsonb(detail or {})),
    )
