"""Tenant registry: validation, encryption at rest, uniqueness, key rotation."""

from __future__ import annotations

import uuid

import pytest
from cryptography.fernet import Fernet

from core import crypto, tenants
from core.settings import get_settings, load_settings


def _domain() -> str:
    return f"store-{uuid.uuid4().hex[:10]}.myshopify.com"


@pytest.mark.parametrize(
    "bad",
    [
        "example.com",
        "shop.myshopify.com.evil.com",
        "evil.com/x.myshopify.com",
        "-shop.myshopify.com",
        "sh_op.myshopify.com",
        "shop.myshopify.com:8080",
        "http://shop.myshopify.com",
        "",
        ".myshopify.com",
        "shop.myshopify.com/admin",
    ],
)
def test_shop_domain_validation_rejects(bad):
    with pytest.raises(tenants.TenantError):
        tenants.validate_shop_domain(bad)


def test_shop_domain_is_normalised():
    assert tenants.validate_shop_domain("  My-Shop.MyShopify.com ") == "my-shop.myshopify.com"


def test_create_encrypts_secrets_and_never_exposes_them(conn):
    domain = _domain()
    tenant = tenants.create(
        conn,
        name="Acme",
        shop_domain=domain,
        access_token="shpat_secret_token",
        webhook_secret="whsec",
        settings=get_settings(),
    )
    assert tenant.shop_domain == domain
    assert tenant.raw_schema == f"shopify_{tenant.id.hex}"
    assert "shpat" not in repr(tenant)
    stored = conn.execute(
        "select access_token_encrypted from app.tenants where id = %s", (tenant.id,)
    ).fetchone()[0]
    assert b"shpat_secret_token" not in bytes(stored)
    creds = tenants.credentials(conn, tenant.id, settings=get_settings())
    assert (creds.access_token, creds.webhook_secret) == ("shpat_secret_token", "whsec")
    assert "shpat" not in repr(creds)
    assert tenants.get(conn, tenant.id) == tenant
    assert tenant in tenants.list_all(conn)
    audit = conn.execute(
        "select action from app.audit_log where tenant_id = %s", (tenant.id,)
    ).fetchall()
    assert audit == [("tenant.created",)]


def test_same_store_twice_conflicts(conn):
    domain = _domain()
    tenants.create(conn, name="A", shop_domain=domain, access_token="t1", settings=get_settings())
    with pytest.raises(tenants.TenantExists, match="already connected"):
        tenants.create(
            conn, name="B", shop_domain=domain.upper(), access_token="t2", settings=get_settings()
        )


def test_owner_membership_and_member_listing(conn):
    user = conn.execute(
        "insert into app.users (email, password_hash) values (%s, 'x') returning id",
        (f"{uuid.uuid4().hex}@example.com",),
    ).fetchone()[0]
    mine = tenants.create(
        conn,
        name="Mine",
        shop_domain=_domain(),
        access_token="t",
        owner_id=user,
        settings=get_settings(),
    )
    tenants.create(
        conn, name="Other", shop_domain=_domain(), access_token="t", settings=get_settings()
    )
    assert tenants.list_all(conn, member=user) == [mine]
    role = conn.execute(
        "select role from app.memberships where tenant_id = %s", (mine.id,)
    ).fetchone()[0]
    assert role == "owner"


def test_unknown_tenant_is_not_found(conn):
    with pytest.raises(tenants.TenantNotFound):
        tenants.get(conn, uuid.uuid4())


def test_key_rotation_keeps_old_ciphertexts_readable(tmp_path):
    old = get_settings()
    new_key = Fernet.generate_key().decode()
    rotated = load_settings(
        {"DATA_DIR": str(tmp_path), "ENCRYPTION_KEYS": f"{new_key},{old.encryption_keys[0]}"},
        env_file=tmp_path / "none",
    )
    legacy = crypto.encrypt("token", old)
    assert crypto.decrypt(legacy, rotated) == "token"
    fresh = crypto.rotate(legacy, rotated)
    assert (
        crypto.decrypt(
            fresh,
            load_settings(
                {"DATA_DIR": str(tmp_path), "ENCRYPTION_KEYS": new_key}, env_file=tmp_path / "x"
            ),
        )
        == "token"
    )
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(
            legacy,
            load_settings(
                {"DATA_DIR": str(tmp_path), "ENCRYPTION_KEYS": new_key}, env_file=tmp_path / "x"
            ),
        )
