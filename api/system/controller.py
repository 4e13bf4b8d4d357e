"""Operator endpoints: liveness, readiness, identity. (`/metrics` is Litestar's
Prometheus controller, wired in the app factory.)"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import psycopg
from litestar import Controller, MediaType, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from psycopg_pool import PoolTimeout

from api.db import Database
from api.schemas import Response as Body
from api.services import provide
from core import migrate
from core.settings import Settings

SERVICE = "xeno-api"
PUBLIC = {"exclude_from_auth": True}


def service_version() -> str:
    try:
        return version("xeno")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0"


class Health(Body, frozen=True):
    status: str
    timestamp: datetime
    environment: str


class Status(Body, frozen=True):
    service: str
    version: str
    status: str


class Readiness(Body, frozen=True):
    status: str
    database: str
    pending_migrations: list[str]


class Unready(Body, frozen=True):
    """`/ready`'s 503: what is not ready (the request id is in `X-Request-Id`)."""

    error: str
    status: str
    database: str
    pending_migrations: list[str]


class SystemController(Controller):
    path = "/"
    tags = ["system"]
    opt = PUBLIC
    dependencies = {
        "settings": provide(lambda services: services.settings),
        "db": provide(lambda services: services.db),
    }

    @get("/health", operation_id="health")
    async def health(self, settings: NamedDependency[Settings]) -> Health:
        """Liveness: the process answers (no dependency is checked)."""
        return Health(status="OK", timestamp=datetime.now(UTC), environment=settings.environment)

    @get("/status", operation_id="status")
    async def status(self) -> Status:
        return Status(service=SERVICE, version=service_version(), status="running")

    @get(
        "/ready",
        operation_id="ready",
        responses={503: ResponseSpec(Unready, generate_examples=False, description="Not ready")},
    )
    async def ready(self, db: NamedDependency[Database]) -> Response[Readiness]:
        """Readiness: the database answers and every migration is applied (else 503)."""
        try:
            async with db.pool.connection(timeout=2) as conn:
                applied: dict[int, str] = dict(
                    await (
                        await conn.execute("select version, checksum from app.schema_migrations")
                    ).fetchall()
                )
        except (psycopg.Error, PoolTimeout):
            return _readiness("database unreachable", "unreachable", [])
        pending = [
            f"{m.version:04d}_{m.name}"
            for m in migrate.available()
            if applied.get(m.version) != m.checksum
        ]
        if pending:
            return _readiness("migrations pending", "ok", pending)
        return Response(
            Readiness(status="ready", database="ok", pending_migrations=[]),
            status_code=HTTP_200_OK,
            media_type=MediaType.JSON,
        )


def _readiness(error: str, database: str, pending: list[str]) -> Response[Any]:
    """The 503 answer; its body is `Unready` (the route's documented 503 response)."""
    return Response(
        Unready(error=error, status="unavailable", database=database, pending_migrations=pending),
        status_code=HTTP_503_SERVICE_UNAVAILABLE,
        media_type=MediaType.JSON,
    )
