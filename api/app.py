"""The API application: `create_app(settings)` wires every domain into one Litestar app.

Domains (auth, tenants, analysts, insights, store_data, sync, webhooks, system, web) each
bring their controllers and, most of them, a service and schemas; this module builds the
services once (api.services) and mounts the controllers, each of which declares the
dependencies it uses (the caller and tenant scope: api.auth.context). The API serves
HTTP only: it records requests (sync runs, Shopify's webhook deliveries) and reads
results; the jobs run in the worker (`xeno worker`) and Dagster. Two loops run beside
the server: the webhook writer's group commits and the live-event listener. Routes live
under `/api/v1`, with `/api` as an alias for the seed's clients (hidden from the schema
so operation ids stay unique).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig
from litestar.stores.memory import MemoryStore

from api.analysts.controller import AnalystController, AnalystToolsController
from api.analysts.service import AnalystService
from api.auth.context import REQUEST_CONTEXT
from api.auth.controller import AuthController
from api.auth.middleware import AuthMiddleware
from api.auth.service import AuthService
from api.auth.tokens import check_secret
from api.db import Database
from api.errors import EXCEPTION_HANDLERS
from api.insights.cache import DashboardCache
from api.insights.controller import InsightsController
from api.insights.service import InsightsService
from api.limits import check_request
from api.logs import configure as configure_logs
from api.middleware import errors_as_responses, json_cors_refusals, request_context_middleware
from api.openapi import document_errors
from api.services import Services
from api.store_data.controller import StoreDataController
from api.store_data.service import StoreDataService
from api.sync.controller import SyncController
from api.sync.service import SyncService
from api.system.controller import SystemController, service_version
from api.system.metrics import MetricsController
from api.tenants.controller import TenantController
from api.tenants.service import TenantService
from api.web import assets
from api.web.controller import AssetController, DashboardPageController, DocsRedirectController
from api.webhooks.controller import (
    EventStreamController,
    WebhookController,
    receiver_controller,
)
from api.webhooks.receiver import WebhookReceiver
from api.webhooks.service import WebhookService
from api.webhooks.stream import EventBroker
from api.webhooks.verify import SignerCache
from api.webhooks.writer import GroupCommitter
from core.settings import Settings, get_settings

CONTROLLERS = [
    TenantController,
    AnalystController,
    AnalystToolsController,
    SyncController,
    StoreDataController,
    InsightsController,
    WebhookController,
    EventStreamController,
]
# Shopify's deliveries carry no user: the receiver authenticates them by signature
PUBLIC_PATHS = [
    "^/health$",
    "^/ready$",
    "^/status$",
    "^/metrics",
    "^/schema",
    "^/assets/",
    "^/app(/|$)",
    "^/api(/v1)?/webhook/",
]


async def _auth_throttled(request: Request[Any, Any, Any]) -> bool:
    return bool(request.route_handler.opt.get("auth_rate_limited"))


def _auth_client(request: Request[Any, Any, Any]) -> str:
    """Separate budgets per route (login, register, ...) and client address."""
    return f"{request.route_handler.handler_name}:{get_remote_address(request)}"


@asynccontextmanager
async def _beside_the_server(*loops: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run `loops` as tasks for the app's lifetime; cancel them at shutdown."""
    tasks = [asyncio.create_task(loop, name=loop.__qualname__) for loop in loops]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def docs_pages() -> list[Any]:
    """Swagger UI at `/schema` and `/schema/swagger`, its scripts and styles served by
    Xeno (`/assets/`), so the docs render offline; the schema as JSON and YAML."""
    swagger = SwaggerRenderPlugin(
        path=["/", "/swagger"],
        js_url=assets.url("swagger-ui-bundle.js"),
        css_url=assets.url("swagger-ui.css"),
        standalone_preset_js_url=assets.url("swagger-ui-standalone-preset.js"),
        favicon=f"<link rel='icon' type='image/svg+xml' href='{assets.url('favicon.svg')}'>",
    )
    return [swagger, JsonRenderPlugin(), YamlRenderPlugin()]


def serve_app() -> Litestar:
    """`xeno api`'s factory, called in every worker process: logging is per process
    (uvicorn's workers start fresh interpreters that inherit no handlers)."""
    settings = get_settings()
    configure_logs(settings.log_level)
    return create_app(settings)


def create_app(settings: Settings) -> Litestar:
    check_secret(settings)
    db = Database(settings)
    broker = EventBroker(db.url)
    webhook_writer = GroupCommitter(db)
    services = Services(
        settings=settings,
        db=db,
        auth=AuthService(db, settings),
        tenants=TenantService(db, settings),
        analysts=AnalystService(db, settings),
        insights=InsightsService(db, DashboardCache(settings.api.dashboard_cache_seconds)),
        store_data=StoreDataService(db),
        sync=SyncService(db),
        webhook_receiver=WebhookReceiver(db, SignerCache(db, settings), webhook_writer),
        webhooks=WebhookService(db, settings),
        event_broker=broker,
    )

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await db.open()
        # Everything built so far (modules, routes, the app) lives as long as the process:
        # out of the collector's sight, a full collection no longer stalls requests for
        # as long as it takes to walk ~170k startup objects (docs/decisions.md).
        gc.collect()
        gc.freeze()
        try:
            async with _beside_the_server(broker.listen(), *webhook_writer.writers()):
                yield
        finally:
            await db.close()

    rate_limit = RateLimitConfig(
        rate_limit=("minute", settings.auth.rate_limit_per_minute),
        check_throttle_handler=_auth_throttled,
        identifier_for_request=_auth_client,
        store="auth_rate_limit",
    )
    prometheus = PrometheusConfig(app_name="xeno_api", group_path=True, exclude=["^/metrics"])
    cors = CORSConfig(
        allow_origins=list(settings.api.cors_origins),
        allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["authorization", "content-type", "x-tenant-id", "x-request-id"],
        expose_headers=["x-request-id", "retry-after"],
        max_age=600,
    )
    auth = DefineMiddleware(AuthMiddleware, db=db, settings=settings, exclude=PUBLIC_PATHS)

    def api_routes() -> list[Router | type]:
        # the rate limiter wraps only the auth routes: every other request skips it
        auth_routes = Router(
            "/", route_handlers=[AuthController], middleware=[rate_limit.middleware]
        )
        return [auth_routes, receiver_controller(settings.webhooks.max_body_bytes), *CONTROLLERS]

    app = Litestar(
        route_handlers=[
            Router("/api/v1", route_handlers=api_routes()),
            Router("/api", route_handlers=api_routes(), include_in_schema=False),
            SystemController,
            MetricsController,
            AssetController,
            DashboardPageController,
            DocsRedirectController,
        ],
        state=State({"services": services}),
        dependencies=REQUEST_CONTEXT,
        middleware=[
            request_context_middleware(production=settings.is_production),
            prometheus.middleware,
            errors_as_responses,
            auth,
        ],
        lifespan=[lifespan],
        cors_config=cors,
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=check_request,
        openapi_config=OpenAPIConfig(
            title="Xeno API",
            version=service_version(),
            path="/schema",
            render_plugins=docs_pages(),
            components=Components(
                security_schemes={
                    "BearerAuth": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
        ),
        stores={"auth_rate_limit": MemoryStore()},
        request_max_body_size=settings.api.max_body_bytes,
        debug=settings.environment == "development",
        logging_config=None,
    )
    document_errors(app, PUBLIC_PATHS)
    # outside Litestar's CORS handling, which answers preflights before any route middleware
    app.asgi_handler = json_cors_refusals(app.asgi_handler)
    return app
