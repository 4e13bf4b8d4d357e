"""Bounds on what a request may carry, checked before any handler or decoder sees it.

JSON parsers recurse (Python's and msgspec's raise `RecursionError`, PostgreSQL's `jsonb`
hits its stack limit), PostgreSQL text refuses NUL, and header values end up in logs,
tables and unique indexes: each of these once turned a hostile request into a 500.
Here they become a 400 with a clear message, as Litestar's `before_request` hook of
every route (docs/decisions.md, "Input bounds").
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from litestar import Request
from litestar.exceptions import ClientException

MAX_JSON_DEPTH = 64  # Shopify's deepest payloads (order -> line item -> price set) nest < 10
MAX_HEADER_BYTES = 16_384  # all request headers together, names included
# a JSON string (unrolled: linear, no backtracking); an unterminated one runs to the end
_STRINGS = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\Z)', re.DOTALL)
_PARENS = bytes.maketrans(b"[{]}", b"(())")
_OPEN = ord("(")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[{]}")
# `\u0000` as a JSON escape: preceded by an even number of backslashes (`\\u0000` is text)
NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def too_deep(body: bytes) -> bool:
    """Does the JSON text nest arrays and objects deeper than `MAX_JSON_DEPTH`?

    Brackets inside strings do not count (an unterminated string runs to the end); the
    exact count runs only when the body has more openers than the bound."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return False
    brackets = _STRINGS.sub(b"", body).translate(_PARENS, _NOT_BRACKETS)
    return max(accumulate(1 if b == _OPEN else -1 for b in brackets), default=0) > MAX_JSON_DEPTH


def check_json_body(body: bytes, *, allow_nul: bool = False) -> None:
    """400 for JSON nested deeper than `MAX_JSON_DEPTH` or (unless allowed) holding NUL."""
    if too_deep(body):
        raise ClientException(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    if not allow_nul and NUL_ESCAPE.search(body):
        raise ClientException("JSON strings must not contain NUL (\\u0000)")


async def check_request(request: Request[Any, Any, Any]) -> None:
    """The app's `before_request` hook: header size, then the body of a write."""
    if sum(len(name) + len(value) for name, value in request.scope["headers"]) > MAX_HEADER_BYTES:
        raise ClientException(f"request headers too large (over {MAX_HEADER_BYTES} bytes)")
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        body = await request.body()
        if body:
            # the webhook receiver keeps NUL (cleaned, see api.webhooks.receiver)
            check_json_body(body, allow_nul=bool(request.route_handler.opt.get("keeps_nul")))
