"""Accounts and sessions: register, log in, rotate refresh tokens, log out.

Users and refresh tokens belong to no tenant, so these queries run with no tenant set
(row-level security then hides every tenant's data from them).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from litestar.exceptions import NotAuthorizedException

from api.auth import passwords, tokens
from api.auth.principal import Principal
from api.auth.schemas import AuthResponse, UserOut
from api.db import Database
from api.errors import ConflictException
from core.settings import Settings

INVALID_CREDENTIALS = "invalid email or password"
INVALID_REFRESH = "invalid or expired refresh token"


def normalise_email(email: str) -> str:
    return email.strip().lower()


class AuthService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def register(self, email: str, password: str) -> AuthResponse:
        email = normalise_email(email)
        password_hash = await passwords.hash_password(password)
        try:
            async with self.db.scoped() as conn:
                row = await (
                    await conn.execute(
                        "insert into app.users (email, password_hash) values (%s, %s) returning id",
                        (email, password_hash),
                    )
                ).fetchone()
                assert row is not None
                return await self._session(conn, row[0], email, family_id=uuid.uuid4())
        except psycopg.errors.UniqueViolation:
            raise ConflictException("email is already registered") from None

    async def login(self, email: str, password: str) -> AuthResponse:
        email = normalise_email(email)
        async with self.db.scoped() as conn:
            row = await (
                await conn.execute(
                    "select id, password_hash from app.users where email = %s", (email,)
                )
            ).fetchone()
            user_id, stored = row if row else (None, None)
            ok, new_hash = await passwords.verify_password(password, stored)
            if not ok or user_id is None:
                raise NotAuthorizedException(INVALID_CREDENTIALS)
            if new_hash:
                await conn.execute(
                    "update app.users set password_hash = %s, updated_at = now() where id = %s",
                    (new_hash, user_id),
                )
            return await self._session(conn, user_id, email, family_id=uuid.uuid4())

    async def refresh(self, refresh_token: str) -> AuthResponse:
        """Rotate: the presented token is spent and a new one of its family issued.

        A spent or revoked token presented again revokes its whole family (committed
        before the 401), so a thief and the victim are both logged out of that session.
        """
        async with self.db.scoped() as conn:
            row = await (
                await conn.execute(
                    "select r.id, r.family_id, r.user_id, r.expires_at, r.revoked_at, u.email "
                    "from app.refresh_tokens r join app.users u on u.id = r.user_id "
                    "where r.token_hash = %s for update of r",
                    (tokens.refresh_token_hash(refresh_token),),
                )
            ).fetchone()
            if row is None:
                raise NotAuthorizedException(INVALID_REFRESH)
            token_id, family_id, user_id, expires_at, revoked_at, email = row
            if revoked_at is None and expires_at > datetime.now(UTC):
                response = await self._session(conn, user_id, email, family_id=family_id)
                await conn.execute(
                    "update app.refresh_tokens set revoked_at = now(), replaced_by = "
                    "(select id from app.refresh_tokens where token_hash = %s) where id = %s",
                    (tokens.refresh_token_hash(response.refresh_token), token_id),
                )
                return response
            if revoked_at is not None:
                await self._revoke_family(conn, family_id)
        raise NotAuthorizedException(INVALID_REFRESH)

    async def logout(self, caller: Principal, refresh_token: str) -> None:
        """End the session (token family) of the given refresh token, if it is the caller's."""
        async with self.db.scoped(caller) as conn:
            row = await (
                await conn.execute(
                    "select family_id from app.refresh_tokens "
                    "where token_hash = %s and user_id = %s",
                    (tokens.refresh_token_hash(refresh_token), caller.user_id),
                )
            ).fetchone()
            if row is not None:
                await self._revoke_family(conn, row[0])

    async def _revoke_family(self, conn: psycopg.AsyncConnection, family_id: uuid.UUID) -> None:
        await conn.execute(
            "update app.refresh_tokens set revoked_at = now() "
            "where family_id = %s and revoked_at is null",
            (family_id,),
        )

    async def _session(
        self, conn: psycopg.AsyncConnection, user_id: uuid.UUID, email: str, *, family_id: uuid.UUID
    ) -> AuthResponse:
        refresh = tokens.new_refresh_token()
        await conn.execute(
            "insert into app.refresh_tokens (family_id, user_id, token_hash, expires_at) "
            "values (%s, %s, %s, coalesce((select min(expires_at) from app.refresh_tokens "
            "where family_id = %s), %s))",
            (
                family_id,
                user_id,
                tokens.refresh_token_hash(refresh),
                family_id,
                datetime.now(UTC) + timedelta(seconds=self.settings.auth.refresh_token_ttl_seconds),
            ),
        )
        return AuthResponse(
            token=tokens.issue_access_token(user_id, email, self.settings),
            user=UserOut(id=user_id, email=email),
            refresh_token=refresh,
            expires_in=self.settings.auth.access_token_ttl_seconds,
        )
