"""Password hashing: argon2id with the configured costs; old hashes keep working."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from foundation import passwords
from foundation.config import ConfigError, Settings


def test_new_hashes_use_the_configured_costs(app):
    encoded = passwords.hash_password("a-long-password")
    assert encoded.startswith("$argon2id$") and "m=1024,t=1,p=1" in encoded
    assert passwords.verify(encoded, "a-long-password")
    assert not passwords.verify(encoded, "another-password")


def test_a_hash_made_with_other_costs_still_verifies(app):
    older = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=2).hash("kept-password")
    assert passwords.verify(older, "kept-password")
    assert not passwords.verify(older, "wrong-password")


@pytest.mark.parametrize("stored", [None, "", "not-a-hash"])
def test_a_missing_or_broken_hash_never_verifies(app, stored):
    assert not passwords.verify(stored, "anything-at-all")
    assert not passwords.verify(stored, "")


def test_production_refuses_costs_below_the_owasp_floor():
    base = dict(APP_ENV="production", DATABASE_URL="postgresql://db/x",
                SECRET_KEY="k" * 40, CARRIER_WEBHOOK_SECRET="c" * 40)
    with pytest.raises(ConfigError, match="production password hashing"):
        Settings.from_env(environ={}, PASSWORD_HASH_MEMORY_KIB=4096, **base)
    with pytest.raises(ConfigError, match="at least 8 KiB per lane"):
        Settings.from_env(environ={}, APP_ENV="test", DATABASE_URL="sqlite:///x.db",
                          SECRET_KEY="k" * 40, PASSWORD_HASH_MEMORY_KIB=16,
                          PASSWORD_HASH_PARALLELISM=4)
