"""The webhook worker: applies stored webhooks in the background, like the sync worker.

An asyncio task in the API process. Every WEBHOOK_APPLY_INTERVAL_SECONDS it runs
`python -m api.webhooks.job` in a child process, which applies every tenant's pending
events (`ingestion.webhooks.apply_pending`), rebuilds the marts of the tenants that
changed and erases tenants whose scheduled deletion is due. A child keeps dlt's and
dbt's memory and signal handling out of the web server; one child at a time. Where
Dagster runs, its `pending_webhooks` sensor applies the same way (`apply_all_pending`);
both may run, since a tenant's batches are applied under its sync lock (docs/webhooks.md).
"""

from __future__ import annotations

import asyncio
import logging
import sys

from api.background import BackgroundLoop
from core.settings import Settings

log = logging.getLogger("api.webhooks")


class WebhookWorker(BackgroundLoop):
    name = "webhook-worker"

    def __init__(self, settings: Settings) -> None:
        self.interval = settings.webhook_apply_interval_seconds

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            process = await asyncio.create_subprocess_exec(sys.executable, "-m", "api.webhooks.job")
            try:
                code = await process.wait()
            except asyncio.CancelledError:
                process.terminate()
                raise
            if code != 0:
                log.warning("webhook job exited with %s", code)
