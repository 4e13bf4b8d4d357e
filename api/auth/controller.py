"""`/auth`: register, login, refresh, logout."""

from __future__ import annotations

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from api.auth.context import Caller
from api.auth.schemas import (
    AuthResponse,
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    RegisterRequest,
)
from api.auth.service import AuthService
from api.errors import ConflictException
from api.openapi import BEARER
from api.services import provide

Service = NamedDependency[AuthService]

PUBLIC = {"exclude_from_auth": True, "auth_rate_limited": True}


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]
    dependencies = {"service": provide(lambda services: services.auth)}

    @post(
        "/register",
        status_code=HTTP_201_CREATED,
        opt=PUBLIC,
        raises=[ConflictException],
        operation_id="register",
    )
    async def register(self, data: JSONBody[RegisterRequest], service: Service) -> AuthResponse:
        """Create an account and start a session."""
        return await service.register(data.email, data.password)

    @post(
        "/login",
        status_code=HTTP_200_OK,
        opt=PUBLIC,
        raises=[NotAuthorizedException],
        operation_id="login",
    )
    async def login(self, data: JSONBody[LoginRequest], service: Service) -> AuthResponse:
        """Start a session; the same 401 for an unknown email and a wrong password."""
        return await service.login(data.email, data.password)

    @post(
        "/refresh",
        status_code=HTTP_200_OK,
        opt=PUBLIC,
        raises=[NotAuthorizedException],
        operation_id="refreshSession",
    )
    async def refresh(self, data: JSONBody[RefreshRequest], service: Service) -> AuthResponse:
        """Exchange a refresh token for new tokens (the old refresh token is spent)."""
        return await service.refresh(data.refresh_token)

    @post("/logout", status_code=HTTP_204_NO_CONTENT, security=BEARER, operation_id="logout")
    async def logout(
        self, data: JSONBody[LogoutRequest], principal: Caller, service: Service
    ) -> None:
        """End the session the refresh token belongs to (access tokens expire on their own)."""
        await service.logout(principal, data.refresh_token)
