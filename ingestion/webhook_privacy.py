"""Privacy and lifecycle webhooks: data requests, redaction, and the tenant's deletion.

Shopify's mandatory compliance topics (`customers/data_request`, `customers/redact`,
`shop/redact`) and `app/uninstalled`. Each action and its audit entry commit together.
Redaction removes identity (email, names, phone, street address) from the raw tables and
the marts and keeps the figures; it also scrubs the stored webhook payloads of that
customer. Tenant deletion is scheduled (TENANT_DELETION_GRACE_HOURS) and performed by
`purge_due()` with `app.erase_tenant`, the same function an owner's DELETE uses.
"""

from __future__ import annotations

import logging
import sys
import uuid
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from core import db, tenants
from core.audit import record as audit
from core.settings import Settings, get_settings
from ingestion.raw_contract import new_load_id

log = logging.getLogger(__name__)

ACTOR = "shopify:webhook"
# Shopify's mandatory compliance topics: app-wide, one URL (`/api/webhook/compliance`)
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
TOPICS = COMPLIANCE_TOPICS | {"app/uninstalled"}
# personal fields, by the last segment of a (flattened) column name
PERSONAL = frozenset(
    {
        *("email", "contact_email", "first_name", "last_name", "name", "phone"),
        *("address1", "address2", "zip", "company", "latitude", "longitude"),
    }
)
# nested objects that describe a person (an order's own `name` is "#1001", not a person)
PERSON_PREFIXES = ("customer__", "billing_address__", "shipping_address__", "default_address__")
# raw table -> which rows concern the customer (%(cid)s, %(orders)s, %(email)s): each
# (column, condition) applies when dlt has created that column (it skips all-null ones)
RAW_ROWS: dict[str, tuple[tuple[str, str], ...]] = {
    "customers": (("id", "id = %(cid)s"),),
    "orders": (("customer__id", "customer__id = %(cid)s"), ("id", "id = any(%(orders)s)")),
    "abandoned_checkouts": (
        ("customer__id", "customer__id = %(cid)s"),
        ("email", "email = %(email)s"),
    ),
}
MART_PERSONAL = frozenset(
    {
        *("email", "first_name", "last_name", "phone"),
        *("customer_email", "customer_first_name", "customer_last_name", "customer_phone"),
    }
)


def personal_columns(table: str, columns: list[str]) -> list[str]:
    """The columns of a raw table that identify a person."""
    whole_row = table.startswith("customers")
    found = []
    for column in columns:
        prefix, _, leaf = column.rpartition("__")
        if leaf not in PERSONAL:
            continue
        if whole_row or column.startswith(PERSON_PREFIXES) or (not prefix and leaf != "name"):
            found.append(column)
    return found


def _columns(conn: psycopg.Connection, schema: str) -> dict[str, list[str]]:
    rows = conn.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = %s order by table_name, ordinal_position",
        (schema,),
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def _rows_of_customer(
    conn: psycopg.Connection, schema: str, table: str, columns: list[str]
) -> sql.Composable | None:
    """The condition selecting the customer's rows of a raw table, from the columns it has."""
    conditions = [
        sql.SQL(condition.format(schema=sql.Identifier(schema).as_string(conn)))
        for column, condition in RAW_ROWS[table]
        if column in columns
    ]
    return sql.SQL(" or ").join(conditions) if conditions else None


def _customer(payload: dict[str, Any]) -> tuple[int | None, str | None, list[int]]:
    customer = payload.get("customer") or {}
    cid = customer.get("id")
    orders = [
        int(o) for o in payload.get("orders_to_redact") or payload.get("orders_requested") or []
    ]
    return (int(cid) if cid is not None else None), customer.get("email"), orders


def redact_customer(
    conn: psycopg.Connection, tenant: tenants.Tenant, payload: dict[str, Any]
) -> int:
    """Null the customer's personal columns in raw and marts; the number of rows changed."""
    cid, email, orders = _customer(payload)
    params = {"cid": cid, "email": email, "orders": orders}
    changed = 0
    raw = _columns(conn, tenant.raw_schema)
    load_id = new_load_id()  # a newer load id makes the incremental marts re-read the rows
    for table in RAW_ROWS:
        columns = personal_columns(table, raw.get(table, []))
        condition = _rows_of_customer(conn, tenant.raw_schema, table, raw.get(table, []))
        if not columns or condition is None:
            continue
        assignments = [sql.SQL("{} = null").format(sql.Identifier(c)) for c in columns]
        if "_dlt_load_id" in raw[table] and "__" not in table:
            assignments.append(sql.SQL("_dlt_load_id = {}").format(sql.Literal(load_id)))
        changed += conn.execute(
            sql.SQL("update {} set {} where {}").format(
                sql.Identifier(tenant.raw_schema, table), sql.SQL(", ").join(assignments), condition
            ),
            params,
        ).rowcount
    for table, columns in _columns(conn, "marts").items():
        personal = [c for c in columns if c in MART_PERSONAL]
        if not personal or "customer_id" not in columns or "tenant_id" not in columns:
            continue
        by_email = sql.SQL(" or email = %(email)s") if "email" in columns else sql.SQL("")
        changed += conn.execute(
            sql.SQL(
                "update {} set {} where tenant_id = %(tenant)s and (customer_id = %(cid)s{})"
            ).format(
                sql.Identifier("marts", table),
                sql.SQL(", ").join(
                    sql.SQL("{} = null").format(sql.Identifier(c)) for c in personal
                ),
                by_email,
            ),
            {**params, "tenant": tenant.id},
        ).rowcount
    conn.execute(
        "update app.webhook_events set payload = jsonb_build_object('redacted', true) "
        "where tenant_id = %(tenant)s and ("
        "(topic like 'customers/%%' and payload->'customer'->>'id' = %(cid)s::text) "
        "or (topic in ('customers/create', 'customers/update') and payload->>'id' = %(cid)s::text)"
        " or payload->'customer'->>'id' = %(cid)s::text)",
        {"tenant": tenant.id, "cid": cid},
    )
    return changed


def _rows(conn: psycopg.Connection, query: sql.Composed, params: dict[str, Any]) -> list[Any]:
    return [row[0] for row in conn.execute(query, params).fetchall()]


def export_customer(
    conn: psycopg.Connection, tenant: tenants.Tenant, payload: dict[str, Any]
) -> uuid.UUID:
    """Everything held on the customer (raw rows and mart rows) as one stored JSON document."""
    cid, email, orders = _customer(payload)
    params = {"cid": cid, "email": email, "orders": orders, "tenant": tenant.id}
    raw = _columns(conn, tenant.raw_schema)
    data: dict[str, Any] = {"customer_id": cid, "raw": {}, "marts": {}}
    for table in RAW_ROWS:
        condition = _rows_of_customer(conn, tenant.raw_schema, table, raw.get(table, []))
        if condition is not None:
            data["raw"][table] = _rows(
                conn,
                sql.SQL("select to_jsonb(t) from {} t where {}").format(
                    sql.Identifier(tenant.raw_schema, table), condition
                ),
                params,
            )
    for table, columns in _columns(conn, "marts").items():
        if "customer_id" in columns and "tenant_id" in columns:
            data["marts"][table] = _rows(
                conn,
                sql.SQL(
                    "select to_jsonb(t) from {} t "
                    "where tenant_id = %(tenant)s and customer_id = %(cid)s"
                ).format(sql.Identifier("marts", table)),
                params,
            )
    row = conn.execute(
        "insert into app.privacy_exports (tenant_id, customer_id, data) values (%s, %s, %s) "
        "returning id",
        (tenant.id, cid, Jsonb(data)),
    ).fetchone()
    assert row is not None
    export_id: uuid.UUID = row[0]
    return export_id


def schedule_deletion(
    conn: psycopg.Connection, tenant: tenants.Tenant, reason: str, settings: Settings
) -> None:
    conn.execute(
        "insert into app.tenant_deletions (tenant_id, reason, due_at) "
        "values (%s, %s, now() + make_interval(hours => %s)) on conflict (tenant_id) do nothing",
        (tenant.id, reason, settings.webhooks.deletion_grace_hours),
    )


def handle(
    conn: psycopg.Connection,
    tenant: tenants.Tenant,
    topic: str,
    payload: dict[str, Any],
    settings: Settings,
) -> tuple[str, str | None]:
    """Perform one privacy/lifecycle event with its audit entry; (status, error)."""
    try:
        with conn.transaction():
            if topic == "customers/data_request":
                export = export_customer(conn, tenant, payload)
                detail: dict[str, Any] = {"export_id": str(export)}
            elif topic == "customers/redact":
                detail = {"rows_redacted": redact_customer(conn, tenant, payload)}
            else:
                schedule_deletion(conn, tenant, topic, settings)
                detail = {"grace_hours": settings.webhooks.deletion_grace_hours}
            customer_id, _, _ = _customer(payload)
            if customer_id is not None:
                detail["customer_id"] = customer_id
            audit(conn, actor=ACTOR, tenant_id=tenant.id, action=f"privacy.{topic}", detail=detail)
    except psycopg.Error as exc:
        log.exception("%s of tenant %s failed", topic, tenant.id)
        return "failed", f"{type(exc).__name__}: {exc}"[:500]
    return "applied", None


def due_deletions(conn: psycopg.Connection) -> list[tuple[uuid.UUID, str]]:
    """(tenant id, reason) of every scheduled deletion that is due, by tenant id."""
    return conn.execute(
        "select tenant_id, reason from app.tenant_deletions where due_at <= now() "
        "order by tenant_id"
    ).fetchall()


def purge_due(settings: Settings) -> list[uuid.UUID]:
    """Erase every tenant whose scheduled deletion is due; their ids."""
    erased = []
    with db.connect(settings, autocommit=True) as conn:
        for tenant_id, reason in due_deletions(conn):
            with conn.transaction():
                audit(conn, actor=ACTOR, tenant_id=tenant_id, action="tenant.erased",
                      detail={"reason": reason})  # fmt: skip
                conn.execute("select app.erase_tenant(%s)", (tenant_id,))
            erased.append(tenant_id)
    return erased


if __name__ == "__main__":  # `python -m ingestion.webhook_privacy`: erase due tenants now
    settings = get_settings()
    logging.basicConfig(level=settings.log_level)
    done = purge_due(settings)
    print(f"erased {len(done)} tenant(s): {', '.join(map(str, done)) or '-'}")
    sys.exit(0)
