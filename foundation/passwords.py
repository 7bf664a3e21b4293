"""Password hashing (argon2id) for staff and members, with its costs from settings.

Production uses argon2's recommended costs; the test settings lower them so that the
thousands of accounts the suite creates hash in microseconds.  Verification reads the
costs from the stored hash itself, so changing them keeps every existing hash valid.
"""
from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from foundation.config import current as settings


def hash_password(password: str) -> str:
    return _hasher_for(*_costs()).hash(password)


def verify(password_hash: str | None, password: str | None) -> bool:
    """True when `password` matches; an unknown account is checked against a dummy hash
    of the same cost, so both answers take the same time."""
    candidate = password_hash or _dummy_hash(*_costs())
    try:
        return _hasher_for(*_costs()).verify(candidate, password or "") and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def _costs() -> tuple[int, int, int]:
    current = settings()
    return (current.PASSWORD_HASH_TIME_COST, current.PASSWORD_HASH_MEMORY_KIB,
            current.PASSWORD_HASH_PARALLELISM)


@functools.cache
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib,
                          parallelism=parallelism)


@functools.cache
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    hasher = _hasher_for(time_cost, memory_kib, parallelism)
    return hasher.hash("not-a-real-password-" + secrets.token_hex(8))
