"""Money in integer minor units: Shopify sends decimal strings, so floats never enter."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# code -> (exponent, rough price scale versus USD, default IANA zone, tax title, tax rate in bp)
CURRENCIES: dict[str, tuple[int, int, str, str, int]] = {
    "USD": (2, 1, "America/New_York", "NY State Tax", 800),
    "EUR": (2, 1, "Europe/Berlin", "DE MwSt", 1900),
    "GBP": (2, 1, "Europe/London", "GB VAT", 2000),
    "INR": (2, 80, "Asia/Kolkata", "IGST", 1800),
    "JPY": (0, 150, "Asia/Tokyo", "JP Consumption Tax", 1000),
    "AUD": (2, 2, "Australia/Sydney", "AU GST", 1000),
    "CAD": (2, 1, "America/Toronto", "ON HST", 1300),
}


def fmt(minor: int, exp: int) -> str:
    """Format minor units as Shopify's decimal string ("12.50", or "1250" for JPY)."""
    if exp == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    q, r = divmod(abs(minor), 10**exp)
    return f"{sign}{q}.{r:0{exp}d}"


def parse(text: str, exp: int) -> int:
    """Parse a decimal string into minor units; raises ValueError on junk or excess precision."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise ValueError(f"invalid amount {text!r}") from exc
    scaled = value.scaleb(exp)
    if not value.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError(f"invalid amount {text!r}")
    return int(scaled)


def tax(net_minor: int, rate_bp: int) -> int:
    """Tax on a net amount, rounded half up, in minor units."""
    return (net_minor * rate_bp + 5000) // 10000


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` across ``weights`` proportionally; the remainder goes to the largest share.

    Shopify allocates an order-level discount across lines so that allocations sum exactly
    to the discount; this keeps that invariant in integers.
    """
    base = sum(weights)
    if base <= 0 or total <= 0:
        return [0] * len(weights)
    shares = [total * w // base for w in weights]
    shares[weights.index(max(weights))] += total - sum(shares)
    return shares
