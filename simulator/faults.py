"""Deterministic fault injection: the n-th admin call of a shop gets the same fate per seed.

Bulk operations and their downloads draw from a second sequence of the same seed, so
turning bulk faults on does not change which admin calls fail.
"""

from __future__ import annotations

import random

import msgspec

ERROR_STATUSES = (500, 502, 503)


class Faults(msgspec.Struct):
    """Shares of calls that fail (5xx), are slowed down, or lose their connection; shares
    of bulk operations that fail with partial data or never finish, a pause per 1,000
    lines a bulk operation writes, and the share of result downloads cut off midway."""

    error_rate: float = 0.0
    slow_ms: int = 0
    slow_rate: float = 0.0
    drop_rate: float = 0.0
    bulk_fail_rate: float = 0.0
    bulk_fail_after: int = 10  # root objects a failing bulk operation writes first
    bulk_stall_rate: float = 0.0
    bulk_slow_ms: int = 0
    download_drop_rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.bulk_slow_ms < 0 or self.bulk_fail_after < 0:
            raise msgspec.ValidationError("bulk_slow_ms and bulk_fail_after must be >= 0")
        for name in (
            "error_rate",
            "slow_rate",
            "drop_rate",
            "bulk_fail_rate",
            "bulk_stall_rate",
            "download_drop_rate",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise msgspec.ValidationError(f"{name} must be between 0 and 1")
        if self.slow_ms < 0:
            raise msgspec.ValidationError("slow_ms must be >= 0")


class Fate(msgspec.Struct):
    """What happens to one call."""

    delay_s: float = 0.0
    drop: bool = False
    status: int = 0  # 0 = answer normally


class BulkFate(msgspec.Struct):
    """What happens to one bulk operation."""

    fail: bool = False  # FAILED (INTERNAL_SERVER_ERROR) after `fail_after` root objects
    fail_after: int = 0
    stall: bool = False  # stays RUNNING until canceled
    pause_s: float = 0.0  # after every 1,000 lines

    @property
    def clean(self) -> bool:
        """Whether the operation runs without any fault."""
        return not (self.fail or self.stall or self.pause_s)


class FaultInjector:
    """Draws each call's fate from ``Random(seed)``; reconfiguring restarts the sequence."""

    def __init__(self, config: Faults | None = None) -> None:
        self.configure(config or Faults())

    def configure(self, config: Faults) -> None:
        """New settings and a fresh, reproducible sequence."""
        self.config = config
        self._rng = random.Random(config.seed)
        self._bulk_rng = random.Random(f"bulk:{config.seed}")

    @property
    def active(self) -> bool:
        """Whether any fault can happen."""
        c = self.config
        return bool(c.error_rate or c.drop_rate or (c.slow_rate and c.slow_ms))

    def next(self) -> Fate:
        """Fate of the next call (three draws per call keep the sequence stable)."""
        c = self.config
        slow, drop, error = self._rng.random(), self._rng.random(), self._rng.random()
        fate = Fate(delay_s=c.slow_ms / 1000 if slow < c.slow_rate else 0.0)
        if drop < c.drop_rate:
            fate.drop = True
        elif error < c.error_rate:
            fate.status = ERROR_STATUSES[int(error / c.error_rate * 3) % 3]
        return fate

    def bulk_fate(self) -> BulkFate:
        """Fate of the next bulk operation (two draws each)."""
        c = self.config
        fail, stall = self._bulk_rng.random(), self._bulk_rng.random()
        return BulkFate(
            fail=fail < c.bulk_fail_rate,
            fail_after=c.bulk_fail_after,
            stall=stall < c.bulk_stall_rate,
            pause_s=c.bulk_slow_ms / 1000,
        )

    def download_drops(self) -> bool:
        """Whether the next result download is cut off midway."""
        return self._bulk_rng.random() < self.config.download_drop_rate
