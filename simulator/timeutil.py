"""Shop-local ISO timestamps: Shopify renders every time in the shop's zone with an offset."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_BUCKET = 900  # zone offsets only change on quarter-hour boundaries


class ShopClock:
    """Formats and parses timestamps for one IANA zone, caching offsets per quarter hour."""

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        self._offsets: dict[int, tuple[int, str]] = {}
        self._days: dict[int, str] = {}

    def _exact(self, ts: int) -> tuple[int, str]:
        delta = datetime.fromtimestamp(ts, UTC).astimezone(self.zone).utcoffset()
        seconds = int(delta.total_seconds()) if delta is not None else 0
        sign = "-" if seconds < 0 else "+"
        hours, minutes = divmod(abs(seconds) // 60, 60)
        return seconds, f"{sign}{hours:02d}:{minutes:02d}"

    def offset(self, ts: int) -> tuple[int, str]:
        """UTC offset in seconds and as ``-05:00`` at epoch second ``ts``.

        Cached per UTC day when the offset is constant over the day, else per quarter hour
        (zone transitions fall on quarter-hour boundaries).
        """
        day = ts // 86400
        hit = self._offsets.get(day)
        if hit is None:
            first, last = self._exact(day * 86400), self._exact(day * 86400 + 86399)
            hit = first if first == last else (0, "")
            if len(self._offsets) > 100_000:
                self._offsets.clear()
            self._offsets[day] = hit
        if hit[1]:
            return hit
        return self._exact(ts - ts % _BUCKET)

    def fmt(self, ts: int) -> str:
        """ISO 8601 with offset, e.g. ``2024-03-01T10:15:00-05:00``."""
        hit = self._offsets.get(ts // 86400)
        seconds, suffix = hit if hit is not None and hit[1] else self.offset(ts)
        local = ts + seconds
        day, sec = divmod(local, 86400)
        day_text = self._days.get(day)
        if day_text is None:
            day_text = date.fromordinal(day + 719163).isoformat()
            self._days[day] = day_text
        h, rem = divmod(sec, 3600)
        m, s = divmod(rem, 60)
        return f"{day_text}T{h:02d}:{m:02d}:{s:02d}{suffix}"

    def local_date(self, ts: int) -> str:
        """Calendar date of ``ts`` in the shop's zone (``YYYY-MM-DD``)."""
        return self.fmt(ts)[:10]

    def parse(self, text: str) -> float:
        """Parse an ISO timestamp or date to epoch seconds; naive values are shop-local.

        A literal ``+`` in a query string arrives as a space, so a space is read as ``+``.
        """
        value = datetime.fromisoformat(text.strip().replace(" ", "+"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.zone)
        return value.timestamp()


def now() -> int:
    """Current epoch second."""
    return int(time.time())


def utc_iso_now() -> str:
    """UTC timestamp with nanosecond-style precision, as in ``X-Shopify-Triggered-At``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
