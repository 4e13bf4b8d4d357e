"""Auth request and response bodies."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

from api.schemas import Request, Response

Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$")]
NewPassword = Annotated[str, msgspec.Meta(min_length=8, max_length=128)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
RefreshToken = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class RegisterRequest(Request, frozen=True):
    email: Email
    password: NewPassword


class LoginRequest(Request, frozen=True):
    email: Email
    password: Password


class RefreshRequest(Request, frozen=True):
    refresh_token: RefreshToken


class LogoutRequest(Request, frozen=True):
    refresh_token: RefreshToken


class UserOut(Response, frozen=True):
    id: uuid.UUID
    email: str


class AuthResponse(Response, frozen=True):
    """The seed's `{token, user}` plus the refresh token and the access token's lifetime."""

    token: str
    user: UserOut
    refresh_token: str
    expires_in: int
