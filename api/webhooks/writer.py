"""Group commit: concurrent deliveries share one INSERT and one commit (fsync).

A delivery is answered only after the transaction holding it has committed, exactly as
with one INSERT per request; under load, the deliveries that arrive while a commit is in
flight wait for the next one together, so the WAL flush is paid once per batch instead
of once per delivery. A lone delivery is written at once (no batching delay). A batch
that fails (an invalid JSON body, a tenant deleted meanwhile) is retried one delivery
at a time, so one bad delivery never fails its neighbours.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from psycopg.types.json import Jsonb

from api.db import Database

MAX_BATCH = 256
WRITERS = 4
_INSERT = "select app.store_webhooks(%b, %b, %b, %b, %b::jsonb[])"


@dataclass
class Delivery:
    tenant_id: uuid.UUID
    webhook_id: str
    topic: str
    headers: dict[str, str]
    payload: str  # the body as received; PostgreSQL parses it into jsonb
    done: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommitter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue()

    def writers(self) -> list[Coroutine[Any, Any, None]]:
        """The WRITERS loops that commit queued deliveries (the app runs them beside the
        server until shutdown); while one commits, the next batch gathers for another."""
        return [self._write() for _ in range(WRITERS)]

    async def store(self, delivery: Delivery) -> bool:
        """Wait until the delivery is committed; True if it was new (not a duplicate)."""
        self._queue.put_nowait(delivery)
        return await delivery.done

    async def _write(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            except Exception:
                for delivery in batch:
                    await self._commit_alone(delivery)

    async def _commit_alone(self, delivery: Delivery) -> None:
        try:
            await self._commit([delivery])
        except Exception as exc:
            if not delivery.done.done():
                delivery.done.set_exception(exc)

    async def _commit(self, batch: list[Delivery]) -> None:
        columns = (
            [d.tenant_id for d in batch],
            [d.webhook_id for d in batch],
            [d.topic for d in batch],
            [Jsonb(d.headers) for d in batch],
            [d.payload for d in batch],
        )
        async with self.db.pool.connection() as conn:  # autocommit: committed on return
            cur = await conn.execute(_INSERT, columns)
            new = {row[0] for row in await cur.fetchall()}
        for delivery in batch:
            if not delivery.done.done():
                delivery.done.set_result(delivery.webhook_id in new)
