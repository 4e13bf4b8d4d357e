"""The tenant registry: connected stores, their encrypted credentials and raw schemas.

A tenant is one Shopify store. Its access token and webhook secret are stored encrypted
and only decrypted by `credentials()` at the moment of use; the `Tenant` record that
everything else passes around never carries them.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import msgspec
import psycopg
from psycopg.rows import class_row

from core import crypto
from core.audit import record as audit
from core.settings import Settings

SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
ROLES = ("owner", "analyst", "viewer")
_COLUMNS = "id, name, shop_domain, raw_schema, created_by, created_at, updated_at"


class TenantError(ValueError):
    """Bad tenant input (domain, name, ...); the message is safe to show to the user."""


class TenantExists(TenantError):
    """The store is already connected."""


class TenantNotFound(LookupError):
    """No tenant has that id."""


class Tenant(msgspec.Struct, frozen=True):
    id: uuid.UUID
    name: str
    shop_domain: str
    raw_schema: str
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class Credentials(msgspec.Struct, frozen=True):
    """Decrypted secrets of one store; keep in locals only, never log or return."""

    access_token: str
    webhook_secret: str | None

    def __repr__(self) -> str:
        return "Credentials(<redacted>)"


def validate_shop_domain(domain: str) -> str:
    """The normalised `<name>.myshopify.com` domain, or TenantError.

    This is the only shop input that ever reaches a URL, so nothing else is accepted.
    """
    normalised = domain.strip().lower()
    if not SHOP_DOMAIN.fullmatch(normalised):
        raise TenantError("shop domain must look like your-store.myshopify.com")
    return normalised


def raw_schema_name(tenant_id: uuid.UUID) -> str:
    """The tenant's raw warehouse schema: stable, unique, a valid identifier."""
    return f"shopify_{tenant_id.hex}"


def create(
    conn: psycopg.Connection,
    *,
    name: str,
    shop_domain: str,
    access_token: str,
    webhook_secret: str | None = None,
    settings: Settings,
    owner_id: uuid.UUID | None = None,
    actor: str = "system",
) -> Tenant:
    """Register a store (encrypting its secrets) and make `owner_id` its owner."""
    name = name.strip()
    if not name:
        raise TenantError("tenant name must not be empty")
    if not access_token.strip():
        raise TenantError("Shopify access token must not be empty")
    domain = validate_shop_domain(shop_domain)
    tenant_id = uuid.uuid4()
    secret = crypto.encrypt(webhook_secret, settings) if webhook_secret else None
    try:
        with conn.transaction(), conn.cursor(row_factory=class_row(Tenant)) as cur:
            cur.execute(
                f"insert into app.tenants (id, name, shop_domain, raw_schema, "
                f"access_token_encrypted, webhook_secret_encrypted, created_by) "
                f"values (%s, %s, %s, %s, %s, %s, %s) returning {_COLUMNS}",
                (
                    tenant_id,
                    name,
                    domain,
                    raw_schema_name(tenant_id),
                    crypto.encrypt(access_token.strip(), settings),
                    secret,
                    owner_id,
                ),
            )
            tenant = cur.fetchone()
            if owner_id is not None:
                add_member(conn, tenant_id, owner_id, "owner")
            audit(
                conn,
                actor=actor,
                tenant_id=tenant_id,
                action="tenant.created",
                detail={"shop_domain": domain},
            )
    except psycopg.errors.UniqueViolation as exc:
        raise TenantExists(f"store {domain} is already connected") from exc
    assert tenant is not None
    return tenant


def add_member(
    conn: psycopg.Connection, tenant_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> None:
    if role not in ROLES:
        raise TenantError(f"role must be one of {', '.join(ROLES)}")
    conn.execute(
        "insert into app.memberships (tenant_id, user_id, role) values (%s, %s, %s) "
        "on conflict (tenant_id, user_id) do update set role = excluded.role",
        (tenant_id, user_id, role),
    )


def get(conn: psycopg.Connection, tenant_id: uuid.UUID) -> Tenant:
    with conn.cursor(row_factory=class_row(Tenant)) as cur:
        cur.execute(f"select {_COLUMNS} from app.tenants where id = %s", (tenant_id,))
        tenant = cur.fetchone()
    if tenant is None:
        raise TenantNotFound(f"no tenant with id {tenant_id}")
    return tenant


def list_all(conn: psycopg.Connection, *, member: uuid.UUID | None = None) -> list[Tenant]:
    """Every tenant, or only those `member` belongs to; oldest first."""
    with conn.cursor(row_factory=class_row(Tenant)) as cur:
        if member is None:
            cur.execute(f"select {_COLUMNS} from app.tenants order by created_at, id")
        else:
            cur.execute(
                f"select {_COLUMNS} from app.tenants t where exists (select 1 from "
                "app.memberships m where m.tenant_id = t.id and m.user_id = %s) "
                "order by created_at, id",
                (member,),
            )
        return cur.fetchall()


def credentials(conn: psycopg.Connection, tenant_id: uuid.UUID, settings: Settings) -> Credentials:
    """Decrypt the store's secrets for immediate use."""
    row = conn.execute(
        "select access_token_encrypted, webhook_secret_encrypted from app.tenants where id = %s",
        (tenant_id,),
    ).fetchone()
    if row is None:
        raise TenantNotFound(f"no tenant with id {tenant_id}")
    token, secret = row
    return Credentials(
        crypto.decrypt(token, settings), crypto.decrypt(secret, settings) if secret else None
    )


def user_id_by_email(conn: psycopg.Connection, email: str) -> uuid.UUID:
    row = conn.execute(
        "select id from app.users where email = %s", (email.strip().lower(),)
    ).fetchone()
    if row is None:
        raise TenantError(f"no user with email {email.strip().lower()}")
    user_id: uuid.UUID = row[0]
    return user_id
