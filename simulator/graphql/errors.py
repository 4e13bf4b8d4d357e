"""GraphQL errors in Shopify's shape: ``{"message", "locations"?, "path"?, "extensions"}``."""

from __future__ import annotations

from typing import Any


class QueryError(Exception):
    """An error that ends the request with a top-level ``errors`` entry (HTTP 200)."""

    def __init__(self, message: str, code: str, path: list[str | int] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.path = path

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.path:
            out["path"] = self.path
        out["extensions"] = {"code": self.code}
        return out
