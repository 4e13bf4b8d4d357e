"""Password hashing: argon2id through passlib's CryptContext (the `libpass` distribution).

Hashing is deliberately slow, so it runs in a worker thread, never on the event loop.
`verify_and_update` re-hashes a correct password whose stored hash uses older
parameters, so raising the cost upgrades users as they log in.
"""

from __future__ import annotations

import anyio.to_thread
from passlib.context import CryptContext

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): ~20 ms here, memory-hard.
CONTEXT = CryptContext(
    schemes=["argon2"],
    deprecated="auto",
    argon2__type="ID",
    argon2__memory_cost=19_456,
    argon2__time_cost=2,
    argon2__parallelism=1,
)
# Verified when the email is unknown, so both failures cost the same time.
_DUMMY_HASH = CONTEXT.hash("not-a-real-password")


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(CONTEXT.hash, password)


async def verify_password(password: str, stored_hash: str | None) -> tuple[bool, str | None]:
    """(matches, replacement hash or None); a missing user still pays a full verify."""

    def verify() -> tuple[bool, str | None]:
        if stored_hash is None:
            CONTEXT.verify(password, _DUMMY_HASH)
            return False, None
        matches, replacement = CONTEXT.verify_and_update(password, stored_hash)
        return bool(matches), replacement

    return await anyio.to_thread.run_sync(verify)
