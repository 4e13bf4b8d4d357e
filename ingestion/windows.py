"""Splitting a long backfill into windows of `updated_at`, each loaded and committed alone.

dlt commits a resource's cursor only with a load, so one huge extract that is killed
restarts from zero. Capping each load at an `updated_at_max` bound makes the committed
cursor a true watermark whatever order the store returns records in: once the window
up to bound B is loaded, every record last updated at or before B is in the warehouse.
Bounds come from bisecting the time range with the store's count endpoint until each
window holds at most the configured number of records.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

# Nothing in a Shopify store is older than Shopify.
SHOPIFY_EPOCH = datetime(2006, 1, 1, tzinfo=UTC)
# Shopify timestamps have one-second resolution: a window cannot be split further.
MIN_WINDOW = timedelta(seconds=1)

CountBetween = Callable[[datetime, datetime], int]


def _split(
    count: CountBetween, start: datetime, end: datetime, total: int, limit: int
) -> list[datetime]:
    if total == 0:
        return []
    if total <= limit or end - start <= MIN_WINDOW:
        return [end]
    middle = start + (end - start) / 2
    left = count(start, middle)
    return _split(count, start, middle, left, limit) + _split(
        count, middle, end, max(0, total - left), limit
    )


def plan_windows(
    count: CountBetween, start: datetime | None, end: datetime, total: int, limit: int
) -> list[datetime | None]:
    """Upper bounds of consecutive windows from `start`, the last one open (None).

    `total` is the number of records updated since `start`; the open last window also
    takes whatever changes while the sync runs.
    """
    bounds = _split(count, start or SHOPIFY_EPOCH, end, total, limit)
    return [*(bound for bound in bounds if bound != end), None]
