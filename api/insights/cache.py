"""Per-process cache of encoded dashboards, valid until the tenant's marts change.

An entry is keyed by tenant and range and remembers the tenant's last mart build
(`app.mart_builds.built_at`, written by every successful dbt build) it was computed
from; a newer build makes it a miss. The TTL bounds anything else: past it, the entry is
still served (stale) while one refresh recomputes it, so an expiry never makes every
reader of a busy dashboard wait for the aggregation.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from datetime import date, datetime

Key = tuple[uuid.UUID, date, date]


class DashboardCache:
    def __init__(self, ttl_seconds: int, max_entries: int = 4096) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[Key, tuple[datetime | None, float, bytes]] = OrderedDict()

    def get(self, key: Key, built_at: datetime | None) -> tuple[bytes, bool] | None:
        """(body, fresh) for the same build; None if absent or from an older build."""
        entry = self._entries.get(key)
        if entry is None or entry[0] != built_at:
            return None
        self._entries.move_to_end(key)
        return entry[2], entry[1] >= time.monotonic()

    def put(self, key: Key, built_at: datetime | None, body: bytes) -> None:
        if self.ttl <= 0:
            return
        self._entries[key] = (built_at, time.monotonic() + self.ttl, body)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
