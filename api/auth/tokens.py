"""Access tokens (JWT, HS256 pinned) and opaque refresh tokens (stored as SHA-256).

Access tokens are short-lived and stateless; every claim the API relies on is required
(`exp`, `iat`, `iss`, `aud`, `sub`, `jti`) and the algorithm list is fixed, so `alg:
none` or an RS/HS confusion cannot pass. Refresh tokens are random 256-bit strings: a
hash is enough to look them up and worthless to a database reader.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections import OrderedDict

import jwt
import msgspec

from core.settings import Settings

ALGORITHM = "HS256"
ISSUER = "xeno"
AUDIENCE = "xeno-api"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti"]
MIN_SECRET_BYTES = 32
_LEEWAY_SECONDS = 5


class InvalidToken(ValueError):
    """The token is missing, malformed, expired, forged or not meant for this API."""


class AccessClaims(msgspec.Struct, frozen=True):
    sub: uuid.UUID
    email: str
    jti: str
    iat: int
    exp: int


def check_secret(settings: Settings) -> bytes:
    secret = settings.auth.jwt_secret.encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
    return secret


def issue_access_token(user_id: uuid.UUID, email: str, settings: Settings) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "email": email,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + settings.auth.access_token_ttl_seconds,
    }
    return jwt.encode(claims, check_secret(settings), algorithm=ALGORITHM)


_verified: OrderedDict[tuple[str, str], AccessClaims] = OrderedDict()
_VERIFIED_MAX = 10_000


def decode_access_token(token: str, settings: Settings) -> AccessClaims:
    """Verify a token; a token verified before is only re-checked for expiry.

    Verification (HMAC + JSON + claim checks) is most of an authenticated request's CPU,
    and a client sends the same token until it expires. The memo holds tokens this
    process verified, keyed by the secret used; `exp` is enforced on every use.
    """
    key = (settings.auth.jwt_secret, token)
    claims = _verified.get(key)
    if claims is not None:
        if claims.exp + _LEEWAY_SECONDS >= time.time():
            return claims
        _verified.pop(key, None)
    claims = _verify(token, settings)
    _verified[key] = claims
    if len(_verified) > _VERIFIED_MAX:
        _verified.popitem(last=False)
    return claims


def _verify(token: str, settings: Settings) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            check_secret(settings),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=_LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
        return msgspec.convert(claims, AccessClaims)
    except (jwt.PyJWTError, msgspec.ValidationError) as exc:
        raise InvalidToken(str(exc)) from exc


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
