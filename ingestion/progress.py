"""Live progress of one sync: pages and records per resource, request rate, bucket fill."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ingestion.pacing import LeakyBucketPacer


@dataclass(frozen=True)
class ProgressEvent:
    """A snapshot sent to the progress callback after each page and each phase change."""

    phase: str  # "plan", "extract", "normalize", "load"
    resource: str | None
    pages: int
    records: int
    expected: int | None  # records the store reported for this resource, if counted
    elapsed: float
    requests: int
    throttled: int
    bucket_used: int
    bucket_capacity: int

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0


ProgressCallback = Callable[[ProgressEvent], None]


class ProgressTracker:
    """Counts pages and records per resource (pages arrive from dlt's extract threads).

    The record counts are also what a run reports as `rows_loaded`: dlt 1.31's CSV writer
    counts fields instead of rows in its normalize metrics, so those cannot be used.
    """

    def __init__(self, pacer: LeakyBucketPacer, callback: ProgressCallback | None) -> None:
        self._pacer = pacer
        self._callback = callback
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._pages: dict[str, int] = {}
        self._records: dict[str, int] = {}
        self._expected: dict[str, int] = {}
        self._uncommitted: dict[str, int] = {}
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
            self._uncommitted[resource] = self._uncommitted.get(resource, 0) + records
        self._emit(resource)

    def committed(self) -> dict[str, int]:
        """Records per resource received since the last call (i.e. in the step just loaded)."""
        with self._lock:
            counts, self._uncommitted = self._uncommitted, {}
        return counts

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
            )
        )
