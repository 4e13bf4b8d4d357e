"""The date range of an insights request: optional, ISO, ordered and bounded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from litestar.exceptions import ClientException

DEFAULT_DAYS = 30
MAX_DAYS = 1096  # three years, inclusive: year-over-year views, bounded cost


def _parse(value: str, name: str) -> date:
    """`2024-05-01`, or a full ISO timestamp (its date part, as the seed's clients send)."""
    text = value.strip()
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()
    except ValueError:
        raise ClientException(f"{name} must be an ISO 8601 date such as 2024-05-01") from None


def date_range(
    start: str | None, end: str | None, *, today: date | None = None
) -> tuple[date, date]:
    """[start, end] inclusive; defaults to the last 30 days ending today (UTC)."""
    end_date = _parse(end, "endDate") if end else (today or datetime.now(UTC).date())
    start_date = (
        _parse(start, "startDate") if start else end_date - timedelta(days=DEFAULT_DAYS - 1)
    )
    if start_date > end_date:
        raise ClientException("startDate must not be after endDate")
    if (end_date - start_date).days + 1 > MAX_DAYS:
        raise ClientException(f"the date range may span at most {MAX_DAYS} days")
    return start_date, end_date
