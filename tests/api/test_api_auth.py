"""Register, login, refresh rotation and reuse detection, logout, rate limits, tokens."""

from __future__ import annotations

import time
import uuid

import jwt
import psycopg
import pytest
from litestar.testing import AsyncTestClient
from passlib.context import CryptContext

from api.app import create_app
from api.auth import tokens
from tests.api.conftest import PASSWORD, make_settings

pytestmark = pytest.mark.anyio


async def test_register_returns_the_seed_shape_and_hashes_with_argon2(client, api_database):
    email = f"New-{uuid.uuid4().hex[:8]}@Example.com "
    response = await client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "user", "refreshToken", "expiresIn"}
    assert body["user"]["email"] == email.strip().lower()
    with psycopg.connect(api_database) as conn:
        stored = conn.execute(
            "select password_hash from app.users where id = %s", (body["user"]["id"],)
        ).fetchone()[0]
    assert stored.startswith("$argon2id$")


async def test_register_twice_is_a_conflict(client, register):
    user = await register()
    again = await client.post(
        "/api/auth/register", json={"email": user.email.upper(), "password": PASSWORD}
    )
    assert again.status_code == 409
    assert "already registered" in again.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "a@b.co", "password": "short"},
        {"email": "a@b.co", "password": "x" * 129},
        {"email": "a@b.co", "password": PASSWORD, "userId": str(uuid.uuid4())},
        {"email": 5, "password": PASSWORD},
        {"password": PASSWORD},
    ],
)
async def test_register_rejects_bad_input(client, body):
    response = await client.post("/api/auth/register", json=body)
    assert response.status_code == 400
    assert response.json()["error"]


async def test_malformed_json_is_a_400(client):
    response = await client.post(
        "/api/auth/login", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "error" in response.json()


async def test_login_same_401_for_unknown_email_and_wrong_password(client, register):
    user = await register()
    ok = await client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert ok.status_code == 200
    assert set(ok.json()) >= {"token", "user"}
    assert ok.json()["user"] == {"id": str(user.id), "email": user.email}
    wrong = await client.post(
        "/api/auth/login", json={"email": user.email, "password": "nope-nope"}
    )
    unknown = await client.post(
        "/api/auth/login", json={"email": "ghost@example.com", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"] == unknown.json()["error"] == "invalid email or password"


async def test_old_password_hashes_are_upgraded_on_login(client, register, api_database):
    user = await register()
    weak = CryptContext(schemes=["argon2"], argon2__time_cost=1, argon2__memory_cost=8192)
    with psycopg.connect(api_database, autocommit=True) as conn:
        conn.execute(
            "update app.users set password_hash = %s where id = %s", (weak.hash(PASSWORD), user.id)
        )
    response = await client.post(
        "/api/auth/login", json={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    with psycopg.connect(api_database) as conn:
        stored = conn.execute(
            "select password_hash from app.users where id = %s", (user.id,)
        ).fetchone()[0]
    assert "t=2" in stored and "m=19456" in stored


async def test_refresh_rotates_and_reuse_revokes_the_family(client, register):
    user = await register()
    first = await client.post("/api/auth/refresh", json={"refreshToken": user.refresh_token})
    assert first.status_code == 200
    second_token = first.json()["refreshToken"]
    assert second_token != user.refresh_token
    reuse = await client.post("/api/auth/refresh", json={"refreshToken": user.refresh_token})
    assert reuse.status_code == 401
    # the thief's replay also ended the legitimate holder's session
    after = await client.post("/api/auth/refresh", json={"refreshToken": second_token})
    assert after.status_code == 401


async def test_logout_revokes_the_session(client, register):
    user = await register()
    response = await client.post(
        "/api/auth/logout", json={"refreshToken": user.refresh_token}, headers=user.headers()
    )
    assert response.status_code == 204
    refreshed = await client.post("/api/auth/refresh", json={"refreshToken": user.refresh_token})
    assert refreshed.status_code == 401
    anonymous = await client.post("/api/auth/logout", json={"refreshToken": "x"})
    assert anonymous.status_code == 401


async def test_login_and_register_are_rate_limited(settings, simulator, api_database):
    tight = make_settings(api_database, simulator, AUTH_RATE_LIMIT_PER_MINUTE="3")
    async with AsyncTestClient(app=create_app(tight)) as client:
        body = {"email": "ghost@example.com", "password": PASSWORD}
        statuses = [(await client.post("/api/auth/login", json=body)).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        limited = await client.post("/api/auth/login", json=body)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        assert "error" in limited.json()
        # register has its own budget
        fresh = {"email": f"r-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
        assert (await client.post("/api/auth/register", json=fresh)).status_code == 201


def forged(settings, **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": tokens.ISSUER,
        "aud": tokens.AUDIENCE,
        "sub": str(uuid.uuid4()),
        "email": "x@example.com",
        "jti": "j",
        "iat": now,
        "exp": now + 60,
    }
    key = overrides.pop("key", settings.auth.jwt_secret)
    algorithm = overrides.pop("algorithm", "HS256")
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=algorithm)


def test_token_validation_rejects_every_forgery(settings):
    good = forged(settings)
    assert tokens.decode_access_token(good, settings).email == "x@example.com"
    bad = [
        forged(settings, exp=int(time.time()) - 60),
        forged(settings, key="another-secret-" + "y" * 40),
        forged(settings, aud="someone-else"),
        forged(settings, iss="someone-else"),
        forged(settings, jti=None),
        forged(settings, sub=None),
        forged(settings, algorithm="HS512"),
        jwt.encode({"sub": str(uuid.uuid4())}, None, algorithm="none"),
        "not.a.token",
    ]
    for token in bad:
        with pytest.raises(tokens.InvalidToken):
            tokens.decode_access_token(token, settings)
