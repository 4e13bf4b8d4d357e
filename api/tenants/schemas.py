"""Tenant and membership bodies. Store credentials go in, never out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from api.auth.schemas import Email
from api.schemas import Request, Response

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Domain = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
# sent to the store as a header: printable ASCII without spaces, like Shopify's own tokens
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=512, pattern=r"^[!-~]+$")]
Role = Literal["owner", "analyst", "viewer"]


class CreateTenantRequest(Request, frozen=True):
    name: Name
    shopify_domain: Domain
    shopify_token: Token
    webhook_secret: Secret | None = None


class UpdateTenantRequest(Request, frozen=True):
    """Rename, rotate the access token (checked against the store) or the webhook secret."""

    name: Name | None = None
    shopify_token: Token | None = None
    webhook_secret: Secret | None = None


class TenantOut(Response, frozen=True):
    """The seed's tenant shape (`userId` is the creator) plus the caller's role."""

    id: uuid.UUID
    name: str
    shopify_domain: str
    user_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    role: Role


class AddMemberRequest(Request, frozen=True):
    email: Email
    role: Role


class MemberOut(Response, frozen=True):
    user_id: uuid.UUID
    email: str
    role: Role
    created_at: datetime
