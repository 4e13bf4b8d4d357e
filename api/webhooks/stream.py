"""Live updates: one LISTEN connection per API process, fanned out to tenants' streams.

The apply step NOTIFYs `xeno_events` with `{tenant, resource, count, ids}` after it
commits; every API worker process listens once and hands each message to the queues of
the streams connected for that tenant only. A slow client's queue is bounded: when full,
its oldest message is dropped (the dashboard refetches anyway).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg

from ingestion.webhooks import NOTIFY_CHANNEL

log = logging.getLogger("api.webhooks.stream")

QUEUE_SIZE = 100
HEARTBEAT_SECONDS = 15.0
RECONNECT_SECONDS = 2.0


class EventBroker:
    def __init__(self, url: str) -> None:
        self.url = url
        self._streams: dict[uuid.UUID, set[asyncio.Queue[dict[str, Any]]]] = {}

    async def listen(self) -> None:
        """Publish every notice until cancelled (the app runs it beside the server)."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await conn.execute(f"listen {NOTIFY_CHANNEL}")
                    async for notice in conn.notifies():
                        self.publish(json.loads(notice.payload))
            except (psycopg.Error, OSError):
                log.warning("event listener lost its connection; reconnecting", exc_info=True)
                await asyncio.sleep(RECONNECT_SECONDS)

    def publish(self, message: dict[str, Any]) -> None:
        try:
            tenant_id = uuid.UUID(message["tenant"])
        except (KeyError, ValueError):
            return
        for queue in self._streams.get(tenant_id, ()):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)

    async def subscribe(self, tenant_id: uuid.UUID) -> AsyncIterator[dict[str, Any] | None]:
        """Messages for one tenant; None every HEARTBEAT_SECONDS of silence."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._streams.setdefault(tenant_id, set()).add(queue)
        try:
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield None
        finally:
            self._streams[tenant_id].discard(queue)
            if not self._streams[tenant_id]:
                del self._streams[tenant_id]
