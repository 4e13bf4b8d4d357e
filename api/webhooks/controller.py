"""Webhook routes: Shopify's receiver, registration, the event log and the live stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_200_OK

from api.auth.context import Tenant, TenantHeaderController
from api.auth.guards import owner
from api.errors import BadGatewayException
from api.services import provide
from api.webhooks.receiver import WebhookReceiver
from api.webhooks.schemas import Received, Registration, WebhookEventOut
from api.webhooks.service import WebhookService
from api.webhooks.stream import EventBroker

Receiver = NamedDependency[WebhookReceiver]
EventStatus = Literal["pending", "applied", "skipped", "unhandled", "failed", "quarantined"]


def receiver_controller(max_body_bytes: int) -> type[Controller]:
    """The public receiver, with its own body limit (a setting, hence a factory)."""

    class WebhookReceiverController(Controller):
        path = "/webhook"
        tags = ["webhooks"]
        opt = {"keeps_nul": True}  # NUL is cleaned, not refused: see WebhookReceiver
        dependencies = {"receiver": provide(lambda services: services.webhook_receiver)}

        @post(
            "/{tenant_id:str}",
            status_code=HTTP_200_OK,
            request_max_body_size=max_body_bytes,
            raises=[NotAuthorizedException],
            operation_id="receiveWebhook",
        )
        async def receive(
            self, tenant_id: FromPath[str], request: Request[Any, Any, Any], receiver: Receiver
        ) -> Received:
            """Shopify delivers here: HMAC-verified, stored durably, then acknowledged."""
            body = await request.body()
            await receiver.receive(tenant_id, request.headers, body)
            return Received(received=True)

        @post(
            "/compliance",
            status_code=HTTP_200_OK,
            request_max_body_size=max_body_bytes,
            raises=[NotAuthorizedException],
            operation_id="receiveComplianceWebhook",
        )
        async def receive_compliance(
            self, request: Request[Any, Any, Any], receiver: Receiver
        ) -> Received:
            """Shopify's mandatory privacy topics, app-wide (one URL in the app's settings):
            the tenant is the store in `X-Shopify-Shop-Domain`."""
            body = await request.body()
            await receiver.receive_compliance(request.headers, body)
            return Received(received=True)

    return WebhookReceiverController


class WebhookController(TenantHeaderController):
    path = "/shopify/webhooks"
    tags = ["webhooks"]
    dependencies = {
        **TenantHeaderController.dependencies,
        "service": provide(lambda services: services.webhooks),
    }

    @post(
        "/register",
        guards=[owner],
        status_code=HTTP_200_OK,
        raises=[BadGatewayException],
        operation_id="registerWebhooks",
    )
    async def register(
        self, tenant: Tenant, service: NamedDependency[WebhookService]
    ) -> Registration:
        """Subscribe the store to every handled topic (idempotent); each topic's outcome."""
        return await service.register(tenant)

    @get("/events", operation_id="listWebhookEvents")
    async def events(
        self,
        tenant: Tenant,
        service: NamedDependency[WebhookService],
        status: FromQuery[EventStatus | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[WebhookEventOut]:
        """Received webhooks, newest first: applied, skipped, unhandled, failed (retried)
        or quarantined (never applicable), with the reason."""
        return await service.events(tenant, status, limit)


class EventStreamController(TenantHeaderController):
    path = "/events"
    tags = ["webhooks"]
    dependencies = {
        **TenantHeaderController.dependencies,
        "broker": provide(lambda services: services.event_broker),
    }

    @get("/stream", operation_id="streamEvents")
    async def stream(self, tenant: Tenant, broker: NamedDependency[EventBroker]) -> ServerSentEvent:
        """Server-Sent Events: `orders`, `customers`, `checkouts`, `products` changes."""
        messages = broker.subscribe(tenant.tenant_id)

        async def events() -> AsyncIterator[ServerSentEventMessage]:
            yield ServerSentEventMessage(event="ready", data="{}")
            async for message in messages:
                if message is None:
                    yield ServerSentEventMessage(comment="keep-alive")
                else:
                    yield ServerSentEventMessage(
                        event=message["resource"], data=json.dumps(message)
                    )

        return ServerSentEvent(events())
