"""Live progress of one sync: phase, records per resource, bulk operations, point bucket."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ingestion.bulk import BulkHandle, BulkStatus
from ingestion.pacing import CostPacer


@dataclass(frozen=True)
class ProgressEvent:
    """A snapshot sent to the progress callback after each page, poll and phase change."""

    phase: str  # "plan", "extract", "bulk", "download", "load", "reconcile"
    resource: str | None
    pages: int
    records: int  # records read so far (pages) or found so far (a bulk operation)
    expected: int | None  # records the store reported for this resource, if counted
    elapsed: float
    requests: int
    throttled: int
    bucket_used: int  # points of the store's bucket in use at the last answer
    bucket_capacity: int
    bulk_status: str | None = None  # the resource's bulk operation: RUNNING, COMPLETED...

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0


ProgressCallback = Callable[[ProgressEvent], None]


class ProgressTracker:
    """Counts pages and records per resource and follows each bulk operation."""

    def __init__(self, pacer: CostPacer, callback: ProgressCallback | None) -> None:
        self._pacer = pacer
        self._callback = callback
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._pages: dict[str, int] = {}
        self._records: dict[str, int] = {}
        self._expected: dict[str, int] = {}
        self._bulk: dict[str, str] = {}
        self._phase = "plan"

    def expect(self, resource: str, records: int) -> None:
        self._expected[resource] = records

    def phase(self, name: str, resource: str | None = None) -> None:
        self._phase = name
        self._emit(resource)

    def page(self, resource: str, records: int) -> None:
        with self._lock:
            self._pages[resource] = self._pages.get(resource, 0) + 1
            self._records[resource] = self._records.get(resource, 0) + records
        self._emit(resource)

    def bulk(self, handle: BulkHandle, status: BulkStatus) -> None:
        """A poll of a bulk operation: its status and the records it has found so far."""
        with self._lock:
            self._bulk[handle.resource] = status.status
            self._records[handle.resource] = status.root_object_count
        self._emit(handle.resource)

    def _emit(self, resource: str | None) -> None:
        if self._callback is None:
            return
        stats = self._pacer.stats
        self._callback(
            ProgressEvent(
                phase=self._phase,
                resource=resource,
                pages=self._pages.get(resource, 0) if resource else sum(self._pages.values()),
                records=self._records.get(resource, 0) if resource else sum(self._records.values()),
                expected=self._expected.get(resource) if resource else None,
                elapsed=time.monotonic() - self._started,
                requests=stats.requests,
                throttled=stats.throttled,
                bucket_used=stats.used,
                bucket_capacity=stats.capacity,
                bulk_status=self._bulk.get(resource) if resource else None,
            )
        )
