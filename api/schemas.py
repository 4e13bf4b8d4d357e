"""Base classes for the JSON the API reads and writes (camelCase, like the seed service).

Request bodies forbid unknown fields: a client can never smuggle `tenant_id`, `userId`
or `role` into a write. Every use case has its own request/response structs.
"""

from __future__ import annotations

import msgspec


class Request(msgspec.Struct, rename="camel", forbid_unknown_fields=True, frozen=True):
    """A request body."""


class Response(msgspec.Struct, rename="camel", frozen=True):
    """A response body."""
