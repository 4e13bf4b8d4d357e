"""The app's long-lived objects, built once per app by `create_app`, and the way a
controller asks for one: a Litestar dependency it declares itself, under a name of its
own, typed by what it picks (`provide(lambda s: s.sync)`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from litestar import Request
from litestar.di import Provide

from api.analysts.service import AnalystService
from api.auth.service import AuthService
from api.db import Database
from api.insights.service import InsightsService
from api.store_data.service import StoreDataService
from api.sync.service import SyncService
from api.tenants.service import TenantService
from api.webhooks.receiver import WebhookReceiver
from api.webhooks.service import WebhookService
from api.webhooks.stream import EventBroker
from core.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    auth: AuthService
    tenants: TenantService
    analysts: AnalystService
    insights: InsightsService
    store_data: StoreDataService
    sync: SyncService
    webhook_receiver: WebhookReceiver
    webhooks: WebhookService
    event_broker: EventBroker


def provide(pick: Callable[[Services], T]) -> Provide:
    """A dependency on the one of the app's services that `pick` chooses."""

    async def dependency(request: Request[Any, Any, Any]) -> T:
        services: Services = request.app.state.services
        return pick(services)

    return Provide(dependency)
