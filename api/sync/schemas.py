"""Sync request and status bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from api.schemas import Request, Response

# `transforming`: the load succeeded and the tenant's marts are being rebuilt from it; a
# sync is `succeeded` once the dashboard shows its data.
Status = Literal["queued", "running", "transforming", "succeeded", "failed"]


class SyncRequest(Request, frozen=True):
    full_refresh: bool = False


class SyncAccepted(Response, frozen=True):
    """The seed's `{message, syncId, status}`."""

    message: str
    sync_id: uuid.UUID
    status: Status


class SyncRunOut(Response, frozen=True):
    sync_id: uuid.UUID
    status: Status
    trigger: str
    full_refresh: bool
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    rows_loaded: dict[str, int]
    error: str | None
    marts_built_at: datetime | None
