"""Webhook bodies: the receiver's answer, registration results and the event log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from api.schemas import Response


class Received(Response, frozen=True):
    received: bool


class Subscription(Response, frozen=True):
    topic: str
    address: str
    status: Literal["created", "exists", "failed"]
    reason: str | None = None


class Registration(Response, frozen=True):
    message: str
    webhooks: list[Subscription]
    compliance_address: str  # set once in the Shopify app's configuration, not per store


class WebhookEventOut(Response, frozen=True):
    id: int
    webhook_id: str
    topic: str
    status: str
    received_at: datetime
    applied_at: datetime | None
    attempts: int
    error: str | None
