"""Receive one delivery: verify it, then commit it to `app.webhook_events`, once.

Nothing is acknowledged before it is durable: `GroupCommitter.store` returns once the
INSERT holding the delivery has committed (a duplicate `X-Shopify-Webhook-Id` inserts
nothing and is acknowledged all the same).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import psycopg
from litestar.exceptions import ClientException, NotAuthorizedException

from api.webhooks.verify import SignerCache
from api.webhooks.writer import Delivery, GroupCommitter

HMAC = "x-shopify-hmac-sha256"
SHOP = "x-shopify-shop-domain"
TOPIC = "x-shopify-topic"
WEBHOOK_ID = "x-shopify-webhook-id"
REQUIRED = (HMAC, SHOP, TOPIC, WEBHOOK_ID)
_REJECTED = "webhook rejected: unknown tenant, wrong shop or bad signature"


class WebhookReceiver:
    def __init__(self, signers: SignerCache, writer: GroupCommitter) -> None:
        self.signers = signers
        self.writer = writer

    async def receive(self, tenant_ref: str, headers: Mapping[str, str], body: bytes) -> bool:
        """Store a verified delivery; True if it was new. 401 (nothing stored) otherwise."""
        if any(not headers.get(name) for name in REQUIRED):
            raise NotAuthorizedException("webhook rejected: Shopify headers missing")
        try:
            tenant_id = uuid.UUID(tenant_ref)
        except ValueError:
            raise NotAuthorizedException(_REJECTED) from None
        if not await self.signers.verify(tenant_id, headers[SHOP], body, headers[HMAC]):
            raise NotAuthorizedException(_REJECTED)
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise ClientException("webhook body is not UTF-8 JSON") from None
        kept = {k: v for k, v in headers.items() if k.startswith("x-shopify-")}
        delivery = Delivery(tenant_id, headers[WEBHOOK_ID], headers[TOPIC], kept, text)
        try:
            return await self.writer.store(delivery)
        except psycopg.errors.ForeignKeyViolation:  # the tenant was deleted meanwhile
            self.signers.forget(tenant_id)
            raise NotAuthorizedException(_REJECTED) from None
        except psycopg.errors.InvalidTextRepresentation:
            raise ClientException("webhook body is not valid JSON") from None
