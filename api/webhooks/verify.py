"""Is this delivery from the tenant's store? HMAC over the raw body, and the shop domain.

The receiver answers Shopify within its 5 s budget at thousands of deliveries a second,
so each tenant's shop domain and (decrypted) secret are cached for a short while; a
signature that fails against a cached secret is checked once more against a fresh read,
so a rotated secret works at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass

from api.db import Database
from core import crypto
from core.settings import Settings

CACHE_SECONDS = 30.0
REFRESH_AFTER_SECONDS = 1.0


@dataclass(frozen=True)
class Signer:
    """What a tenant's deliveries must match; `secret` None means none is configured."""

    shop_domain: str
    secret: str | None
    loaded_at: float


def signature(secret: str, body: bytes) -> str:
    """`X-Shopify-Hmac-Sha256`: base64 of HMAC-SHA256 over the exact body bytes."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signed_by(secret: str | None, body: bytes, header: str) -> bool:
    """Constant-time check of the header; no secret verifies nothing."""
    if not secret:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), header.encode())


class SignerCache:
    """Tenant id -> Signer (or None: no such tenant), read through `app.webhook_tenant`."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.app_secret = settings.shopify.api_secret or None
        self._entries: dict[uuid.UUID, tuple[float, Signer | None]] = {}
        self._shops: dict[str, tuple[float, uuid.UUID]] = {}

    async def get(self, tenant_id: uuid.UUID, *, fresh: bool = False) -> Signer | None:
        now = time.monotonic()
        cached = self._entries.get(tenant_id)
        if cached and not fresh and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        async with self.db.pool.connection() as conn:
            row = await (
                await conn.execute("select * from app.webhook_tenant(%s)", (tenant_id,))
            ).fetchone()
        signer = None
        if row is not None:
            secret = crypto.decrypt(row[1], self.settings) if row[1] else self.app_secret
            signer = Signer(row[0], secret, now)
        self._entries[tenant_id] = (now, signer)
        return signer

    async def tenant_of(self, shop_domain: str) -> uuid.UUID | None:
        """The tenant connected to a store (compliance deliveries name no tenant).

        Only found tenants are cached: a store connected a moment ago must not be
        mistaken for an unknown one.
        """
        now = time.monotonic()
        cached = self._shops.get(shop_domain)
        if cached and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        async with self.db.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "select id from app.tenants where shop_domain = %s", (shop_domain,)
                )
            ).fetchone()
        if row is None:
            return None
        tenant_id: uuid.UUID = row[0]
        self._shops[shop_domain] = (now, tenant_id)
        return tenant_id

    def signed_by_app(self, body: bytes, header: str) -> bool:
        """Signed with the app's client secret (how Shopify signs compliance topics)."""
        return signed_by(self.app_secret, body, header)

    def forget(self, tenant_id: uuid.UUID) -> None:
        self._entries.pop(tenant_id, None)
        self._shops = {k: v for k, v in self._shops.items() if v[1] != tenant_id}

    async def verify(
        self, tenant_id: uuid.UUID, shop_domain: str, body: bytes, header: str
    ) -> bool:
        """The delivery names the tenant's store and is signed with its secret."""
        signer = await self.get(tenant_id)
        if (
            signer is not None
            and signer.shop_domain == shop_domain
            and signed_by(signer.secret, body, header)
        ):
            return True
        if signer is None or time.monotonic() - signer.loaded_at < REFRESH_AFTER_SECONDS:
            return False
        signer = await self.get(tenant_id, fresh=True)  # maybe the secret was just rotated
        return (
            signer is not None
            and signer.shop_domain == shop_domain
            and signed_by(signer.secret, body, header)
        )
