"""Analyst login bodies. The password appears once, in the answer to the grant that
created the login."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from api.schemas import Request, Response

Login = Annotated[str, msgspec.Meta(min_length=3, max_length=63, pattern=r"^[a-z][a-z0-9_]*$")]


class GrantAnalystRequest(Request, frozen=True):
    login: Login


class AnalystGrantOut(Response, frozen=True):
    login: str
    tenant_id: uuid.UUID
    granted_at: datetime
    granted_by: str


class GrantedAnalystOut(Response, frozen=True):
    """`connectionUrl` holds the password when `created` (shown only now); an existing
    login keeps its password and its URL comes without one."""

    login: str
    tenant_id: uuid.UUID
    created: bool
    connection_url: str
