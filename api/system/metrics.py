"""`/metrics`: Litestar's Prometheus exposition, plus what only the database knows.

Webhooks are applied and syncs run by another process (`xeno worker`), so counters kept
there would never reach this exposition: the webhook backlog (pending, failed,
quarantined deliveries) and the live loop's queues (units waiting, the oldest's wait) are
read from the database at scrape time, across tenants with no tenant named, and
published as gauges.
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
from api.services import provide

log = logging.getLogger(__name__)

WEBHOOK_EVENTS = Gauge(
    "xeno_webhook_events",
    "Stored webhook deliveries by status (pending, failed: retried; quarantined: never "
    "applicable), read from the database at scrape time",
    ["status"],
)
WORK_QUEUED = Gauge(
    "xeno_work_queued",
    "Units of work waiting for the worker, by queue (syncs: queued sync runs; "
    "webhook_tenants: tenants with webhooks due); at most one per tenant each",
    ["queue"],
)
WORK_OLDEST = Gauge(
    "xeno_work_oldest_seconds",
    "How long the oldest unit of each worker queue has waited (0 when empty)",
    ["queue"],
)
AUTH_REJECTED = Counter(
    "xeno_auth_rejected",
    "Requests the auth middleware refused with 401, by reason",
    ["reason"],
)


async def refresh_backlogs(db: Database) -> None:
    """Set the gauges from the database; a scrape still answers without them."""
    try:
        async with db.pool.connection(timeout=2) as conn:
            webhooks = await (await conn.execute("select * from app.webhook_backlog()")).fetchall()
            queues = await (await conn.execute("select * from app.live_loop_backlog()")).fetchall()
    except (psycopg.Error, PoolTimeout) as exc:
        log.warning("backlogs unavailable for /metrics: %s", type(exc).__name__)
        return
    for status, events in webhooks:
        WEBHOOK_EVENTS.labels(status).set(events)
    for queue, units, oldest in queues:
        WORK_QUEUED.labels(queue).set(units)
        WORK_OLDEST.labels(queue).set(oldest)


class MetricsController(PrometheusController):
    dependencies = {"db": provide(lambda services: services.db)}

    @get(operation_id="metrics", media_type=MediaType.TEXT)
    async def get(self, db: NamedDependency[Database]) -> Response[bytes]:
        """Prometheus text exposition: HTTP metrics, auth rejections, backlogs, queues."""
        await refresh_backlogs(db)
        exposition: Response[bytes] = await PrometheusController.get.fn(self)
        return exposition
