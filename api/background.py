"""A loop that runs beside the web server for the app's lifetime (the workers)."""

from __future__ import annotations

import asyncio
import contextlib


class BackgroundLoop:
    """Started by the app's lifespan, cancelled at shutdown; subclasses write `_loop`."""

    name = "background"
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        raise NotImplementedError
