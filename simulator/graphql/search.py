"""Shopify's ``query:`` search syntax, the subset the simulator can answer from its arrays.

Terms are ``field:value`` or ``field:<op>value`` with ``op`` one of ``>=``, ``<=``, ``>``,
``<`` (values may be quoted with ``'`` or ``"``), joined by whitespace or ``AND``. Understood:
``created_at``, ``updated_at`` (ISO 8601; a date or a value without offset is in the shop's
zone), ``id`` (a number or a GID), for orders ``status`` (``any`` (Shopify's default),
``open``, ``closed``, ``cancelled``), for abandoned checkouts ``recovery_state``
(``recovered``, ``not_recovered``). Other terms are ignored, as Shopify ignores unknown
search fields. ``OR`` and negation are not supported (their terms are ignored).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from simulator import generator as gen
from simulator.timeutil import ShopClock

TERM = re.compile(
    r"""(?P<neg>-)?(?P<field>[A-Za-z_]+):(?P<op>>=|<=|>|<|=)?"""
    r"""(?:'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<bare>\S+))"""
)
INF = math.inf
# (table, field) -> value -> (flag mask, expected bits)
FLAG_TERMS = {
    ("orders", "status"): {
        "any": (gen.DELETED, 0),
        "open": (gen.DELETED | gen.CANCELLED | gen.CLOSED, 0),
        "closed": (gen.DELETED | gen.CLOSED, gen.CLOSED),
        "cancelled": (gen.DELETED | gen.CANCELLED, gen.CANCELLED),
    },
    ("checkouts", "recovery_state"): {
        "recovered": (gen.DELETED | gen.COMPLETED, gen.COMPLETED),
        "not_recovered": (gen.DELETED | gen.COMPLETED, 0),
    },
}


@dataclass
class Filter:
    """Inclusive integer bounds plus a flag test (``flags & mask == expect``)."""

    cmin: float = -INF
    cmax: float = INF
    umin: float = -INF
    umax: float = INF
    idmin: float = -INF
    idmax: float = INF
    mask: int = gen.DELETED
    expect: int = 0


def _bounds(op: str | None, value: float) -> tuple[float, float]:
    """Inclusive integer range of ``x <op> value``."""
    if op == ">":
        return math.floor(value) + 1, INF
    if op == ">=":
        return math.ceil(value), INF
    if op == "<":
        return -INF, math.ceil(value) - 1
    if op == "<=":
        return -INF, math.floor(value)
    return math.ceil(value), math.floor(value)


def _id(text: str) -> float:
    return float(text.rsplit("/", 1)[-1])


def parse(text: str | None, clock: ShopClock, table: str) -> Filter:
    """A ``Filter`` for a search string on a store table (None or empty: everything)."""
    found = Filter()
    if not text:
        return found
    disjunction = bool(re.search(r"\bOR\b", text))
    for m in TERM.finditer(text):
        if m["neg"] or disjunction:
            continue
        field, op = m["field"].lower(), m["op"]
        value = next(v for v in (m["sq"], m["dq"], m["bare"]) if v is not None)
        try:
            if field in ("created_at", "updated_at"):
                lo, hi = _bounds(op, clock.parse(value))
                if field == "created_at":
                    found.cmin, found.cmax = max(found.cmin, lo), min(found.cmax, hi)
                else:
                    found.umin, found.umax = max(found.umin, lo), min(found.umax, hi)
            elif field == "id":
                lo, hi = _bounds(op, _id(value))
                found.idmin, found.idmax = max(found.idmin, lo), min(found.idmax, hi)
            elif value.lower() in FLAG_TERMS.get((table, field), {}):
                found.mask, found.expect = FLAG_TERMS[table, field][value.lower()]
        except ValueError:
            continue  # a malformed value matches as an unknown term: ignored
    return found
