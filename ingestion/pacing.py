"""A client-side model of Shopify's query-cost bucket, so a sync asks only what it holds.

The GraphQL Admin API limits calculated query cost: every app and store pair has a bucket
of points (`maximumAvailable`) that refills at `restoreRate` points a second. A query
needs its requested cost available when it starts and gets back what it did not use;
every response reports the bucket (`extensions.cost.throttleStatus`). `CostPacer` keeps
the last reported level, refills it with the clock, reserves the cost of calls still in
flight, and lets a query start only once the modelled bucket holds its requested cost.
A `THROTTLED` answer carries the bucket too, so the retry waits exactly
(cost - available) / restoreRate, never a guessed pause.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Until a store reports its bucket: the smallest bucket and slowest restore Shopify ever
# published (1,000 points, 50 a second), so a first burst cannot overdraw a bigger plan.
DEFAULT_MAXIMUM = 1_000.0
DEFAULT_RESTORE_RATE = 50.0


@dataclass
class CostStats:
    """Counters a progress line or a benchmark reads (points are calculated query cost)."""

    requests: int = 0
    throttled: int = 0  # THROTTLED answers
    waited_seconds: float = 0.0  # time callers spent waiting for points
    requested_points: int = 0  # sum of requestedQueryCost of answered queries
    actual_points: int = 0  # sum of actualQueryCost: what the store really charged
    available: float = DEFAULT_MAXIMUM  # last reported currentlyAvailable
    maximum: float = DEFAULT_MAXIMUM  # maximumAvailable
    restore_rate: float = DEFAULT_RESTORE_RATE  # restoreRate, points a second

    @property
    def used(self) -> int:
        """Points of the bucket in use at the last answer (a progress line's "fill")."""
        return int(self.maximum - self.available)

    @property
    def capacity(self) -> int:
        return int(self.maximum)


class CostPacer:
    """Blocks each caller until the store's point bucket holds its query's cost. Thread-safe."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._at = clock()  # when the store reported `stats.available`
        self._in_flight: dict[int, float] = {}  # ticket -> points reserved, not answered yet
        self._tickets = 0
        self._reported = 0  # ticket of the call whose answer set `stats.available`
        self.stats = CostStats()

    def available(self) -> float:
        """Points the modelled bucket holds now, less those reserved by unanswered calls."""
        with self._lock:
            return self._available(self._clock())

    def _available(self, now: float) -> float:
        s = self.stats
        refilled = min(s.maximum, s.available + (now - self._at) * s.restore_rate)
        reserved = sum(cost for t, cost in self._in_flight.items() if t > self._reported)
        return refilled - reserved

    def wait_needed(self, cost: float) -> float:
        """Seconds until the modelled bucket holds `cost` points (0 if it does now)."""
        with self._lock:
            return self._wait_needed(cost, self._clock())

    def _wait_needed(self, cost: float, now: float) -> float:
        # A query dearer than the whole bucket runs once the bucket is full (the store
        # decides then); asking for more would wait forever.
        need = min(cost, self.stats.maximum) - self._available(now)
        return max(0.0, need / self.stats.restore_rate)

    def acquire(self, cost: float) -> int:
        """Wait until `cost` points are available, reserve them; returns the call's ticket."""
        while True:
            with self._lock:
                now = self._clock()
                delay = self._wait_needed(cost, now)
                if delay <= 0:
                    self._tickets += 1
                    self._in_flight[self._tickets] = cost
                    self.stats.requests += 1
                    return self._tickets
                self.stats.waited_seconds += delay
            self._sleep(delay)

    def release(
        self, ticket: int, cost: Mapping[str, Any] | None, *, throttled: bool = False
    ) -> None:
        """A call was answered (or failed): adopt the store's reported bucket, the truth.

        `cost` is the response's `extensions.cost` (None when the call got no answer).
        """
        with self._lock:
            self._in_flight.pop(ticket, None)
            s = self.stats
            if throttled:
                s.throttled += 1
            if not cost:
                return
            s.requested_points += int(cost.get("requestedQueryCost") or 0)
            s.actual_points += int(cost.get("actualQueryCost") or 0)
            status = cost.get("throttleStatus")
            if not status or ticket < self._reported:
                return
            s.maximum = float(status["maximumAvailable"])
            s.restore_rate = float(status["restoreRate"]) or DEFAULT_RESTORE_RATE
            s.available = float(status["currentlyAvailable"])
            # The store measured the bucket before its answer travelled back: dating the
            # figure at arrival under-counts the refill, so the model errs on the safe side.
            self._at = self._clock()
            self._reported = ticket
