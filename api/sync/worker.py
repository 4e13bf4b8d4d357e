"""The sync worker: runs queued syncs, one at a time, each in a child process.

A small, swappable piece (orchestration will replace it with a Dagster sensor): an
asyncio task in the API process that claims the oldest claimable run and runs
`python -m api.sync.job` for it. The child (ingestion, then dbt) keeps the heavy work,
its memory and its signal handling out of the web server. Claiming uses FOR UPDATE
SKIP LOCKED plus the tenant's sync advisory lock to pass over runs another process is
working on; exactly-once execution itself is ingestion's guarantee (tenant lock and the
queued -> running transition). A `running` run whose tenant lock is free was orphaned
by a dead process: the worker re-runs it (ingestion closes it as interrupted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import uuid

import anyio.to_thread
import psycopg

from api.background import BackgroundLoop
from core.db import resolve_database_url
from core.settings import Settings
from ingestion.sync import LOCK_NAMESPACE

log = logging.getLogger("api.sync")

_CLAIM = """
select id, tenant_id, full_refresh, status from app.sync_runs
where status in ('queued', 'running')
  and pg_try_advisory_xact_lock(%s, hashtext(tenant_id::text))
order by requested_at
limit 1
for update skip locked
"""


class SyncWorker(BackgroundLoop):
    name = "sync-worker"

    def __init__(self, settings: Settings, *, poll_seconds: float = 5.0) -> None:
        self.settings = settings
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A run was queued: look now instead of at the next poll."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                claimed = await anyio.to_thread.run_sync(self._claim)
            except psycopg.Error:
                log.exception("sync worker could not claim a run")
                claimed = None
            if claimed is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                continue
            await self._run(*claimed)

    def _claim(self) -> tuple[uuid.UUID, uuid.UUID, bool, str] | None:
        with psycopg.connect(resolve_database_url(self.settings)) as conn:
            return conn.execute(_CLAIM, (LOCK_NAMESPACE,)).fetchone()

    async def _run(
        self, run_id: uuid.UUID, tenant_id: uuid.UUID, full_refresh: bool, status: str
    ) -> None:
        argv = [sys.executable, "-m", "api.sync.job", str(tenant_id)]
        if status == "queued":
            argv += ["--run-id", str(run_id)]
        if full_refresh:
            argv.append("--full-refresh")
        log.info("sync starting", extra={"sync_id": str(run_id), "tenant_id": str(tenant_id)})
        process = await asyncio.create_subprocess_exec(*argv)
        code = await process.wait()
        log.info(
            "sync finished",
            extra={"sync_id": str(run_id), "tenant_id": str(tenant_id), "exit_code": code},
        )
