"""Shopify's leaky bucket: each call adds one, the bucket leaks at a steady rate."""

from __future__ import annotations

import math
import time

import msgspec


class RateLimit(msgspec.Struct):
    """Bucket settings of one shop (Plus shops have bigger buckets and faster leaks)."""

    enabled: bool = True
    bucket: int = 40
    leak_per_second: float = 2.0


class LeakyBucket:
    """Call counter for one shop; a rejected call does not fill the bucket."""

    def __init__(self, config: RateLimit) -> None:
        self.config = config
        self.level = 0.0
        self._at = time.monotonic()

    def configure(self, config: RateLimit) -> None:
        """Swap settings, keeping the current fill (clamped to the new size)."""
        self._drain()
        self.config = config
        self.level = min(self.level, float(config.bucket))

    def _drain(self) -> None:
        t = time.monotonic()
        self.level = max(0.0, self.level - (t - self._at) * self.config.leak_per_second)
        self._at = t

    def take(self) -> bool:
        """Count one call; False when the bucket is full (answer 429)."""
        self._drain()
        if not self.config.enabled:
            return True
        if self.level + 1 > self.config.bucket:
            return False
        self.level += 1
        return True

    def header(self) -> str:
        """``X-Shopify-Shop-Api-Call-Limit`` value, e.g. ``3/40``."""
        used = min(self.config.bucket, math.ceil(self.level - 1e-9)) if self.config.enabled else 0
        return f"{used}/{self.config.bucket}"


class Plan(msgspec.Struct, frozen=True):
    """A GraphQL Admin API bucket: ``maximum`` points, refilled at ``restore_rate`` a second."""

    maximum: float
    restore_rate: float


# Restore rates as Shopify publishes them per plan; bucket sizes are 20 seconds of restore,
# as the API reports them in ``throttleStatus.maximumAvailable``.
PLANS = {
    "standard": Plan(maximum=2_000.0, restore_rate=100.0),
    "advanced": Plan(maximum=4_000.0, restore_rate=200.0),
    "plus": Plan(maximum=20_000.0, restore_rate=1_000.0),
    "enterprise": Plan(maximum=40_000.0, restore_rate=2_000.0),
}


class QueryCostLimit(msgspec.Struct):
    """The GraphQL plan of one shop (``PUT /_sim/{shop}/query_cost``)."""

    plan: str = "standard"

    def __post_init__(self) -> None:
        if self.plan not in PLANS:
            raise msgspec.ValidationError(f"plan must be one of {', '.join(PLANS)}")


class PointBucket:
    """Shopify's GraphQL bucket of cost points: a query needs its requested cost available,
    then gets back what it did not use. Refills exactly with the monotonic clock, so a
    client pacing itself by ``throttleStatus`` never sees ``THROTTLED``."""

    def __init__(self, config: QueryCostLimit) -> None:
        self.config = config
        self.plan = PLANS[config.plan]
        self.available = self.plan.maximum
        self._at = time.monotonic()

    def configure(self, config: QueryCostLimit) -> None:
        """Switch plan, keeping the points used (clamped to the new bucket)."""
        self._refill()
        used = self.plan.maximum - self.available
        self.config = config
        self.plan = PLANS[config.plan]
        self.available = max(0.0, self.plan.maximum - used)

    def _refill(self) -> None:
        t = time.monotonic()
        restored = (t - self._at) * self.plan.restore_rate
        self.available = min(self.plan.maximum, self.available + restored)
        self._at = t

    def take(self, points: int, *, enforce: bool) -> bool:
        """Take ``points`` before a query runs; False (take nothing) if enforced and short."""
        self._refill()
        if enforce and self.available < points:
            return False
        self.available = max(0.0, self.available - points)
        return True

    def give_back(self, points: int) -> None:
        """Refund the difference between requested and actual cost."""
        self._refill()
        self.available = min(self.plan.maximum, self.available + points)

    def status(self) -> dict[str, float | int]:
        """``throttleStatus`` as Shopify reports it (available points rounded down)."""
        self._refill()
        return {
            "maximumAvailable": self.plan.maximum,
            "currentlyAvailable": int(self.available),
            "restoreRate": self.plan.restore_rate,
        }
