"""Receive one delivery: verify it, then commit it to `app.webhook_events`, once.

Nothing is acknowledged before it is durable: `GroupCommitter.store` returns once the
INSERT holding the delivery has committed (a duplicate `X-Shopify-Webhook-Id` inserts
nothing and is acknowledged all the same). Two doors: a tenant's own route, and the
app-wide compliance route, where the store's domain names the tenant.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import psycopg
from litestar.exceptions import ClientException, NotAuthorizedException
from psycopg.types.json import Jsonb

from api.db import Database
from api.limits import NUL_ESCAPE
from api.webhooks.verify import SignerCache
from api.webhooks.writer import Delivery, GroupCommitter
from ingestion.webhook_privacy import ACTOR, COMPLIANCE_TOPICS

HMAC = "x-shopify-hmac-sha256"
SHOP = "x-shopify-shop-domain"
TOPIC = "x-shopify-topic"
WEBHOOK_ID = "x-shopify-webhook-id"
REQUIRED = (HMAC, SHOP, TOPIC, WEBHOOK_ID)
# Shopify's headers are short (a UUID, a domain, a topic, a base64 HMAC); these are stored
# and the webhook id is a unique key, whose index entries PostgreSQL caps at ~2.7 kB
MAX_SHOPIFY_HEADER = 255
_REJECTED = "webhook rejected: unknown tenant, wrong shop or bad signature"
_UNSIGNED = "compliance webhook rejected: bad signature"
# a store that is not (or no longer) connected: nothing is held, the request is recorded
_UNKNOWN_SHOP = (
    "insert into app.audit_log (actor, tenant_id, action, detail) values (%s, null, %s, %s)"
)


def _required(headers: Mapping[str, str]) -> None:
    if any(not headers.get(name) for name in REQUIRED):
        raise NotAuthorizedException("webhook rejected: Shopify headers missing")
    for name, value in headers.items():
        if name.startswith("x-shopify-") and len(value) > MAX_SHOPIFY_HEADER:
            raise ClientException(f"webhook header {name} is longer than {MAX_SHOPIFY_HEADER}")


def _json_text(body: bytes) -> str:
    """The body to store: a JSON object (PostgreSQL checks the rest of its syntax), with
    every `\\u0000` escape replaced by `\\ufffd`: `jsonb` cannot hold NUL, and a signed
    delivery is kept whatever its strings hold (docs/decisions.md, "NUL in webhooks")."""
    if not body.lstrip().startswith(b"{"):
        raise ClientException("webhook body is not a JSON object")
    if b"\x00" in body:  # JSON has NUL only as an escape
        raise ClientException("webhook body is not valid JSON")
    if b"\\u0000" in body:
        body = NUL_ESCAPE.sub(rb"\1\\ufffd", body)
    try:
        return body.decode()
    except UnicodeDecodeError:
        raise ClientException("webhook body is not UTF-8 JSON") from None


class WebhookReceiver:
    def __init__(self, db: Database, signers: SignerCache, writer: GroupCommitter) -> None:
        self.db = db
        self.signers = signers
        self.writer = writer

    async def receive(self, tenant_ref: str, headers: Mapping[str, str], body: bytes) -> bool:
        """Store a verified delivery; True if it was new. 401 (nothing stored) otherwise."""
        _required(headers)
        try:
            tenant_id = uuid.UUID(tenant_ref)
        except ValueError:
            raise NotAuthorizedException(_REJECTED) from None
        if not await self.signers.verify(tenant_id, headers[SHOP], body, headers[HMAC]):
            raise NotAuthorizedException(_REJECTED)
        try:
            return await self._store(tenant_id, headers, body)
        except psycopg.errors.ForeignKeyViolation:  # the tenant was deleted meanwhile
            raise NotAuthorizedException(_REJECTED) from None

    async def receive_compliance(self, headers: Mapping[str, str], body: bytes) -> bool:
        """A compliance topic for whichever store `X-Shopify-Shop-Domain` names.

        Signed with the app's client secret (or, for a custom app, the store's own
        secret); stored for its tenant exactly like the tenant route. A store that is
        not connected is acknowledged and recorded in the audit log: nothing is held.
        """
        _required(headers)
        shop, topic = headers[SHOP], headers[TOPIC]
        app_signed = self.signers.signed_by_app(body, headers[HMAC])
        tenant_id = await self.signers.tenant_of(shop)
        if not app_signed and (
            tenant_id is None or not await self.signers.verify(tenant_id, shop, body, headers[HMAC])
        ):
            raise NotAuthorizedException(_UNSIGNED)
        if topic not in COMPLIANCE_TOPICS:
            raise ClientException(
                f"{topic} is not a compliance topic; store topics go to /api/webhook/<tenantId>"
            )
        if tenant_id is not None:
            try:
                return await self._store(tenant_id, headers, body)
            except psycopg.errors.ForeignKeyViolation:  # erased meanwhile: now unknown
                pass
        await self._record_unknown_shop(shop, topic, headers[WEBHOOK_ID])
        return True

    async def _store(self, tenant_id: uuid.UUID, headers: Mapping[str, str], body: bytes) -> bool:
        text = _json_text(body)
        kept = {k: v for k, v in headers.items() if k.startswith("x-shopify-")}
        delivery = Delivery(tenant_id, headers[WEBHOOK_ID], headers[TOPIC], kept, text)
        try:
            return await self.writer.store(delivery)
        except psycopg.errors.ForeignKeyViolation:
            self.signers.forget(tenant_id)
            raise
        except psycopg.errors.InvalidTextRepresentation:
            raise ClientException("webhook body is not valid JSON") from None

    async def _record_unknown_shop(self, shop: str, topic: str, webhook_id: str) -> None:
        detail = {"shop_domain": shop, "webhook_id": webhook_id, "outcome": "no connected store"}
        async with self.db.pool.connection() as conn:  # autocommit: durable on return
            await conn.execute(_UNKNOWN_SHOP, (ACTOR, f"privacy.{topic}", Jsonb(detail)))
