"""Encryption of secrets at rest (Shopify access tokens, webhook secrets).

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) behind MultiFernet: the first
key in ENCRYPTION_KEYS encrypts, every listed key decrypts, so keys rotate without
downtime (`rotate` re-encrypts under the newest key).
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.settings import Settings


class DecryptionError(RuntimeError):
    """A stored secret could not be decrypted with any configured key."""


def generate_key() -> str:
    """A new random key in the format ENCRYPTION_KEYS expects."""
    return Fernet.generate_key().decode()


def _cipher(settings: Settings) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in settings.encryption_keys])
    except ValueError as exc:
        raise ValueError(
            "ENCRYPTION_KEYS: each key must be 32 url-safe base64 bytes "
            "(generate one with `xeno secrets generate`)"
        ) from exc


def encrypt(plaintext: str, settings: Settings) -> bytes:
    return _cipher(settings).encrypt(plaintext.encode())


def decrypt(ciphertext: bytes, settings: Settings) -> str:
    try:
        return _cipher(settings).decrypt(bytes(ciphertext)).decode()
    except InvalidToken as exc:
        raise DecryptionError(
            "stored secret cannot be decrypted with ENCRYPTION_KEYS "
            "(was a key removed before rotation?)"
        ) from exc


def rotate(ciphertext: bytes, settings: Settings) -> bytes:
    """Re-encrypt under the first (newest) key."""
    return _cipher(settings).rotate(bytes(ciphertext))
