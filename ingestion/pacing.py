"""Client-side model of Shopify's leaky bucket, so a sync never trips 429 in steady state.

Shopify counts every REST call into a per-store bucket that leaks at a fixed rate and
reports its fill on each response (`X-Shopify-Shop-Api-Call-Limit: 32/40`). The pacer
keeps the last reported fill, lets it leak with the clock, counts calls still in flight
and only lets a call start when it fits under the bucket's top (minus a small margin
for clock skew between us and the store). The bucket size comes from the header, so
plans with larger buckets (80/4, 400/20) are used fully; the leak rate is a setting or,
by default, Shopify's ratio of one twentieth of the bucket per second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"
DEFAULT_CAPACITY = 40  # Shopify's smallest bucket: safe until a header says otherwise
LEAK_RATIO = 20  # every Shopify plan leaks its bucket in 20 s: 40/2, 80/4, 400/20


def parse_call_limit(header: str | None) -> tuple[int, int] | None:
    """`"32/40"` -> (32, 40); None for a missing or malformed header."""
    if not header:
        return None
    used, _, capacity = header.partition("/")
    try:
        parsed = int(used), int(capacity)
    except ValueError:
        return None
    return parsed if parsed[1] > 0 else None


@dataclass
class BucketStats:
    """Counters a progress line or a benchmark reads."""

    requests: int = 0
    throttled: int = 0  # 429 responses
    waited_seconds: float = 0.0
    used: int = 0
    capacity: int = DEFAULT_CAPACITY


class LeakyBucketPacer:
    """Blocks each caller until one more call fits in the store's bucket. Thread-safe."""

    def __init__(
        self,
        leak_rate: float = 0.0,
        *,
        margin: int = 2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._fixed_rate = leak_rate if leak_rate > 0 else None
        self._margin = margin
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._level = 0.0
        self._at = clock()
        self._in_flight: set[int] = set()  # tickets of calls not answered yet
        self._tickets = 0
        self._reported = 0  # ticket of the call whose answer set `_level`
        self.stats = BucketStats()

    @property
    def leak_rate(self) -> float:
        return self._fixed_rate or self.stats.capacity / LEAK_RATIO

    def _level_now(self, now: float) -> float:
        return max(0.0, self._level - (now - self._at) * self.leak_rate)

    def acquire(self) -> int:
        """Wait until a call fits, then count it as in flight; returns its ticket."""
        while True:
            with self._lock:
                now = self._clock()
                top = max(1, self.stats.capacity - self._margin)
                unreported = sum(1 for t in self._in_flight if t > self._reported)
                excess = self._level_now(now) + unreported + 1 - top
                if excess <= 0:
                    self._tickets += 1
                    self._in_flight.add(self._tickets)
                    self.stats.requests += 1
                    return self._tickets
                delay = excess / self.leak_rate
                self.stats.waited_seconds += delay
            self._sleep(delay)

    def release(self, ticket: int, call_limit: str | None, *, throttled: bool = False) -> None:
        """A call finished: adopt the store's reported fill (the truth) if it sent one."""
        with self._lock:
            self._in_flight.discard(ticket)
            if throttled:
                self.stats.throttled += 1
            parsed = parse_call_limit(call_limit)
            if parsed is None or ticket < self._reported:
                return
            self._level, self.stats.capacity = float(parsed[0]), parsed[1]
            self._at = self._clock()
            self._reported = ticket
            self.stats.used = parsed[0]

    def backoff(self, seconds: float) -> None:
        """Honour a store-imposed pause (Retry-After): the bucket is full now, then leaks."""
        with self._lock:
            self._level = float(self.stats.capacity)
            self._at = self._clock()
            self.stats.waited_seconds += seconds
        self._sleep(seconds)
