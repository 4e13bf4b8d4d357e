"""Opaque keyset cursors: the sort key of the last row, base64url-encoded JSON.

Not signed: a forged cursor can only move within the caller's own tenant (the query is
tenant-filtered and row-level secured); a malformed one is a 400.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, Literal

import msgspec
from litestar.exceptions import ClientException

MAX_CURSOR_LENGTH = 512
BIGINT = 2**63
Kind = Literal["int", "time"]
INVALID = "cursor is not valid; use the nextCursor of a previous page"


def encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(values)).decode().rstrip("=")


def _valid(value: Any, kind: Kind) -> bool:
    if kind == "int":
        return type(value) is int and -BIGINT <= value < BIGINT
    if not isinstance(value, str):
        return False
    datetime.fromisoformat(value)  # ValueError if it is not a timestamp
    return True


def decode(cursor: str, kinds: tuple[Kind, ...]) -> list[Any]:
    """The sort key values, each checked against the column kind it will be compared to."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError
        values = msgspec.json.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError
        if not all(_valid(v, kind) for v, kind in zip(values, kinds, strict=True)):
            raise ValueError
        return values
    except (ValueError, msgspec.DecodeError):
        raise ClientException(INVALID) from None
