"""Password hashing, random tokens and signed tokens."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verifying against this when the login is unknown keeps the response time the same, so that
# timing does not reveal which logins exist.
_dummy_hash = _hasher.hash("not a real password")


def configure_password_hashing(time_cost: int, memory_kib: int) -> None:
    """Set Argon2's cost for new hashes (a stored hash is verified with the cost it was made
    with). The defaults are argon2-cffi's, RFC 9106's low-memory choice; the test suite, which
    hashes thousands of throwaway passwords, lowers them."""
    global _hasher, _dummy_hash
    if (time_cost, memory_kib) == (_hasher.time_cost, _hasher.memory_cost):
        return
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    _dummy_hash = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    # Argon2 is deliberately slow: keep it off the event loop.
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def secrets_match(sent: str | None, expected: str) -> bool:
    """Whether a secret someone sent (a header, a parameter) equals the expected one, in constant
    time. ``hmac.compare_digest`` refuses str holding anything but ASCII with a TypeError, and a
    header may hold any byte: both sides are compared as UTF-8 bytes instead ("surrogatepass" so
    that even a lone surrogate is just a mismatch)."""
    if not sent or not expected:
        return False
    return hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(payload: dict[str, Any], secret: str, purpose: str) -> str:
    """A compact HMAC-signed token; ``purpose`` keeps tokens of one kind from passing as another."""
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"{purpose}.{body}".encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unsign(token: str, secret: str, purpose: str) -> dict[str, Any] | None:
    try:
        body, mac = token.split(".", 1)
        expected = hmac.new(secret.encode(), f"{purpose}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        data = json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    return data if isinstance(data, dict) else None
