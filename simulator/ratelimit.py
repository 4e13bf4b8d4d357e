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
