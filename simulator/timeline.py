"""Seasonal creation times: a weighted hourly grid sampled by stratified inverse CDF.

Record ``i`` of ``n`` lands at quantile ``(i + u) / n`` of the grid's cumulative weight,
so timestamps come out sorted (ids ascend with creation time, as in Shopify) without
sorting or holding more than the final ``array('q')``.
"""

from __future__ import annotations

import math
import random
from array import array
from datetime import date

WEEKDAY = (1.0, 0.95, 0.95, 1.0, 1.1, 1.3, 1.2)  # Monday .. Sunday
HOUR = (0.2, 0.12, 0.08, 0.06, 0.06, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0, 1.05,
        1.1, 1.05, 1.0, 1.0, 1.05, 1.15, 1.3, 1.4, 1.35, 1.1, 0.7, 0.4)  # fmt: skip


def _season(day: int) -> float:
    """Yearly cycle: a winter-holiday peak, a summer lull, and a Black Friday spike."""
    d = date.fromordinal(day + 719163)
    doy = d.timetuple().tm_yday
    weight = 1.0 + 0.3 * math.cos(2 * math.pi * (doy - 350) / 365.25)
    if d.month == 11 and 23 <= d.day <= 30:
        weight *= 2.2
    return weight


class Timeline:
    """Hourly weights between ``start`` and ``end`` (epoch seconds) in a fixed local offset."""

    def __init__(self, start: int, end: int, utc_offset: int, *, seasonal: bool = True) -> None:
        self.start = start
        self.end = end
        hours = max(1, (end - start) // 3600)
        cumulative = array("d")
        total = 0.0
        season: dict[int, float] = {}
        for h in range(hours):
            local = start + h * 3600 + utc_offset
            day = local // 86400
            weight = 1.0
            if seasonal:
                if day not in season:
                    season[day] = _season(day)
                trend = 0.6 + 0.8 * h / hours
                weight = trend * season[day] * WEEKDAY[(day + 3) % 7] * HOUR[local % 86400 // 3600]
            total += weight
            cumulative.append(total)
        self._cumulative = cumulative
        self._total = total

    def spread(self, n: int, rng: random.Random) -> array:
        """``n`` sorted epoch seconds following the grid's weights."""
        out = array("q")
        cumulative = self._cumulative
        last = len(cumulative) - 1
        h = 0
        below = 0.0
        for i in range(n):
            target = (i + rng.random()) / n * self._total
            while h < last and cumulative[h] < target:
                below = cumulative[h]
                h += 1
            width = cumulative[h] - below
            frac = (target - below) / width if width > 0 else 0.0
            out.append(self.start + h * 3600 + min(3599, int(frac * 3600)))
        return out
