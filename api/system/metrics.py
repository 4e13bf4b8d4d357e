"""`/metrics`: Litestar's Prometheus exposition, plus what only the database knows.

Webhooks are applied by another process (the worker or Dagster), so counters kept there
would never reach this exposition: the webhook backlog (pending, failed, quarantined
deliveries, across tenants, no tenant named) is read from the database at scrape time,
in one statement, and published as a gauge.
"""

from __future__ import annotations

import logging

import psycopg
from litestar import MediaType, Response, get
from litestar.di import NamedDependency
from litestar.plugins.prometheus import PrometheusController
from prometheus_client import Counter, Gauge
from psycopg_pool import PoolTimeout

from api.db import Database

log = logging.getLogger(__name__)

WEBHOOK_EVENTS = Gauge(
    "xeno_webhook_events",
    "Stored webhook deliveries by status (pending, failed: retried; quarantined: never "
    "applicable), read from the database at scrape time",
    ["status"],
)
AUTH_REJECTED = Counter(
    "xeno_auth_rejected",
    "Requests the auth middleware refused with 401, by reason",
    ["reason"],
)


async def refresh_webhook_backlog(db: Database) -> None:
    """Set the gauge from `app.webhook_backlog()`; a scrape still answers without it."""
    try:
        async with db.pool.connection(timeout=2) as conn:
            rows = await (await conn.execute("select * from app.webhook_backlog()")).fetchall()
    except (psycopg.Error, PoolTimeout) as exc:
        log.warning("webhook backlog unavailable for /metrics: %s", type(exc).__name__)
        return
    for status, events in rows:
        WEBHOOK_EVENTS.labels(status).set(events)


class MetricsController(PrometheusController):
    @get(operation_id="metrics", media_type=MediaType.TEXT)
    async def get(self, db: NamedDependency[Database]) -> Response:  # type: ignore[override]
        """Prometheus text exposition: HTTP metrics, auth rejections, webhook backlog."""
        await refresh_webhook_backlog(db)
        return await PrometheusController.get.fn(self)
