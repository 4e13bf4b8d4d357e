"""Deterministic fault injection: the n-th admin call of a shop gets the same fate per seed."""

from __future__ import annotations

import random

import msgspec

ERROR_STATUSES = (500, 502, 503)


class Faults(msgspec.Struct):
    """Shares of calls that fail (5xx), are slowed down, or lose their connection."""

    error_rate: float = 0.0
    slow_ms: int = 0
    slow_rate: float = 0.0
    drop_rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("error_rate", "slow_rate", "drop_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise msgspec.ValidationError(f"{name} must be between 0 and 1")
        if self.slow_ms < 0:
            raise msgspec.ValidationError("slow_ms must be >= 0")


class Fate(msgspec.Struct):
    """What happens to one call."""

    delay_s: float = 0.0
    drop: bool = False
    status: int = 0  # 0 = answer normally


class FaultInjector:
    """Draws each call's fate from ``Random(seed)``; reconfiguring restarts the sequence."""

    def __init__(self, config: Faults | None = None) -> None:
        self.configure(config or Faults())

    def configure(self, config: Faults) -> None:
        """New settings and a fresh, reproducible sequence."""
        self.config = config
        self._rng = random.Random(config.seed)

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
