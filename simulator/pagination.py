"""Shopify cursor pagination: filters, opaque signed ``page_info`` tokens and Link headers.

The cursor is the last (or first) id of the page and the filters travel inside the token,
so a record that exists throughout a walk is returned exactly once whatever is created,
updated or deleted in between (new records always get larger ids).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from bisect import bisect_left, bisect_right
from urllib.parse import quote

import msgspec

from simulator import generator as gen
from simulator.store import ApiError, Table
from simulator.timeutil import ShopClock

MAX_LIMIT = 250
DEFAULT_LIMIT = 50
STATUSES = {"open", "closed", "cancelled", "any"}
PAGE_INFO_PARAMS = {"page_info", "limit", "fields"}
PAGINATION_DOC = "See https://shopify.dev/api/usage/pagination-rest for more information."


class Query(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """Filters of a list request; serialized into ``page_info`` for the following pages."""

    r: str  # resource
    status: str = "any"
    cmin: float | None = None
    cmax: float | None = None
    umin: float | None = None
    umax: float | None = None
    since: int = 0
    ids: list[int] | None = None
    d: str = "n"  # direction of this page: "n" after cursor, "p" before it
    c: int = 0  # cursor id (0 = first page)


class Request(msgspec.Struct):
    """A parsed list/count request."""

    query: Query
    limit: int
    fields: list[str] | None
    paged: bool  # came with page_info


def _int(params: dict[str, str], name: str) -> int | None:
    if name not in params:
        return None
    try:
        value = int(params[name])
    except ValueError:
        raise ApiError(400, {name: ["expected Integer to be an id"]}) from None
    if value < 0:
        raise ApiError(400, {name: ["must be greater than or equal to 0"]})
    return value


def _time(params: dict[str, str], name: str, clock: ShopClock) -> float | None:
    if name not in params:
        return None
    try:
        return clock.parse(params[name])
    except ValueError:
        raise ApiError(400, {name: [f"Invalid datetime: {params[name]!r}"]}) from None


def parse(resource: str, params: dict[str, str], clock: ShopClock, key: bytes) -> Request:
    """Validate query parameters as Shopify does (400 ``{"errors": ...}`` on bad input)."""
    limit = DEFAULT_LIMIT
    if "limit" in params:
        try:
            limit = int(params["limit"])
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIMIT:
            raise ApiError(400, {"limit": [f"must be an integer between 1 and {MAX_LIMIT}"]})
    fields = None
    if params.get("fields"):
        fields = [f.strip() for f in params["fields"].split(",") if f.strip()]
    if "page_info" in params:
        for name in params:
            if name not in PAGE_INFO_PARAMS:
                raise ApiError(
                    400, f"{name} cannot be passed when page_info is present. {PAGINATION_DOC}"
                )
        return Request(decode(params["page_info"], resource, key), limit, fields, True)
    status = params.get("status", "open" if resource == "orders" else "any")
    if resource == "orders" and status not in STATUSES:
        raise ApiError(400, {"status": [f"{status!r} is not a valid status"]})
    ids = None
    if params.get("ids"):
        try:
            ids = sorted({int(x) for x in params["ids"].split(",") if x.strip()})
        except ValueError:
            raise ApiError(400, {"ids": ["expected a comma-separated list of ids"]}) from None
    query = Query(
        r=resource,
        status=status if resource == "orders" else "any",
        cmin=_time(params, "created_at_min", clock),
        cmax=_time(params, "created_at_max", clock),
        umin=_time(params, "updated_at_min", clock),
        umax=_time(params, "updated_at_max", clock),
        since=_int(params, "since_id") or 0,
        ids=ids,
    )
    return Request(query, limit, fields, False)


def encode(query: Query, key: bytes) -> str:
    """Opaque token: signature + JSON, urlsafe base64."""
    payload = msgspec.json.encode(query)
    mac = hmac.new(key, payload, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(mac + payload).rstrip(b"=").decode()


def decode(token: str, resource: str, key: bytes) -> Query:
    """Verify and read a token; anything tampered or foreign is a 400."""
    invalid = ApiError(400, {"page_info": ["Invalid value."]})
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise invalid from None
    mac, payload = raw[:12], raw[12:]
    if not hmac.compare_digest(mac, hmac.new(key, payload, hashlib.sha256).digest()[:12]):
        raise invalid
    try:
        query = msgspec.json.decode(payload, type=Query)
    except msgspec.DecodeError:
        raise invalid from None
    if query.r != resource:
        raise invalid
    return query


def _bounds(table: Table, q: Query) -> tuple[int, int]:
    """Index range allowed by since_id and the creation window (ids ascend with time)."""
    lo, hi = 0, len(table)
    if q.since:
        lo = table.index_after(q.since)
    created = table.created
    if q.cmin is not None:
        lo = max(lo, bisect_left(created, q.cmin))
    if q.cmax is not None:
        hi = min(hi, bisect_right(created, q.cmax))
    return lo, hi


_STATUS_MASK = {
    "any": (gen.DELETED, 0),
    "open": (gen.DELETED | gen.CANCELLED | gen.CLOSED, 0),
    "closed": (gen.DELETED | gen.CLOSED, gen.CLOSED),
    "cancelled": (gen.DELETED | gen.CANCELLED, gen.CANCELLED),
}


def scan(table: Table, q: Query, start: int, stop: int, step: int, want: int) -> list[int]:
    """Up to ``want`` matching indices walking from ``start`` towards ``stop``."""
    mask, expect = _STATUS_MASK[q.status]
    flags, updated = table.flags, table.updated
    umin = q.umin if q.umin is not None else float("-inf")
    umax = q.umax if q.umax is not None else float("inf")
    if q.ids is not None:
        wanted = {table.index_after(rid - 1) for rid in q.ids}
        wanted = {i for i in wanted if i < len(table) and table.id_at(i) in q.ids}
        if step > 0:
            candidates = sorted(i for i in wanted if start <= i < stop)
        else:
            candidates = sorted((i for i in wanted if stop < i <= start), reverse=True)
    else:
        candidates = list(range(start, stop, step))
    out: list[int] = []
    for i in candidates:
        if flags[i] & mask == expect and umin <= updated[i] <= umax:
            out.append(i)
            if len(out) == want:
                break
    return out


def page(table: Table, req: Request) -> tuple[list[int], Query | None, Query | None]:
    """Indices of one page plus the queries of the previous and next pages."""
    q = req.query
    lo, hi = _bounds(table, q)
    if q.d == "p":
        end = table.index_after(q.c - 1) if q.c else hi
        found = scan(table, q, min(end, hi) - 1, lo - 1, -1, req.limit + 1)
        more_before = len(found) > req.limit
        found = found[: req.limit][::-1]
        more_after = bool(found)
    else:
        begin = max(lo, table.index_after(q.c)) if q.c else lo
        found = scan(table, q, begin, hi, 1, req.limit + 1)
        more_after = len(found) > req.limit
        found = found[: req.limit]
        more_before = req.paged and bool(found)
    prev_q = next_q = None
    if found and more_before:
        prev_q = msgspec.structs.replace(q, d="p", c=table.id_at(found[0]))
    if found and more_after:
        next_q = msgspec.structs.replace(q, d="n", c=table.id_at(found[-1]))
    return found, prev_q, next_q


def count(table: Table, q: Query) -> int:
    """Number of records matching the filters (O(n) scan of compact arrays)."""
    if q == Query(r=q.r, status="any"):
        return table.live
    lo, hi = _bounds(table, q)
    return len(scan(table, q, lo, hi, 1, -1))


def link_query(req: Request, key: bytes, q: Query) -> str:
    """Query string of a previous/next page URL (only ``limit``, ``fields``, ``page_info``)."""
    extra = f"&fields={quote(','.join(req.fields))}" if req.fields else ""
    return f"limit={req.limit}{extra}&page_info={encode(q, key)}"


def link_header(
    url: str, req: Request, key: bytes, prev_q: Query | None, next_q: Query | None
) -> str:
    """``Link`` header value with absolute previous/next URLs."""
    return ", ".join(
        f'<{url}?{link_query(req, key, q)}>; rel="{rel}"'
        for rel, q in (("previous", prev_q), ("next", next_q))
        if q is not None
    )


def project(rec: dict, fields: list[str] | None) -> dict:
    """Keep only the requested top-level fields."""
    if fields is None:
        return rec
    return {f: rec[f] for f in fields if f in rec}
