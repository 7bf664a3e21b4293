import os
import stat

import pytest

from foundation.config import ConfigError, Settings


def test_defaults_use_sqlite_and_embedded_redis_under_instance(tmp_path):
    settings = Settings.from_env(environ={}, INSTANCE_PATH=str(tmp_path))
    assert settings.DATABASE_URL == f"sqlite:///{tmp_path / 'marketplace.db'}"
    assert settings.REDIS_URL == ""
    assert settings.MEDIA_ROOT == str(tmp_path / "media")
    assert settings.totp_required is False


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = Settings.from_env(environ={}, INSTANCE_PATH=str(tmp_path)).SECRET_KEY
    second = Settings.from_env(environ={}, INSTANCE_PATH=str(tmp_path)).SECRET_KEY
    assert first == second and len(first) >= 32
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_environment_values_are_parsed(tmp_path):
    settings = Settings.from_env(environ={
        "INSTANCE_PATH": str(tmp_path), "LOGIN_MAX_FAILURES": "7",
        "STAFF_REQUIRE_TOTP": "yes", "AUTHENTICATION_THRESHOLD_PAISE": "1_500_000"})
    assert settings.LOGIN_MAX_FAILURES == 7
    assert settings.totp_required is True
    assert settings.AUTHENTICATION_THRESHOLD_PAISE == 1_500_000
    risk = Settings.from_env(environ={"INSTANCE_PATH": str(tmp_path),
                                      "VISION_COUNTERFEIT_REVIEW_THRESHOLD": "0.7"})
    assert risk.VISION_COUNTERFEIT_REVIEW_THRESHOLD == 0.7


@pytest.mark.parametrize("environ, message", [
    ({"APP_ENV": "staging"}, "APP_ENV must be one of"),
    ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must be"),
    ({"REDIS_URL": "http://x"}, "REDIS_URL must be"),
    ({"LOGIN_MAX_FAILURES": "many"}, "LOGIN_MAX_FAILURES must be a whole number"),
    ({"LOGIN_MAX_FAILURES": "0"}, "LOGIN_MAX_FAILURES must be a positive number"),
    ({"STAFF_REQUIRE_TOTP": "perhaps"}, "STAFF_REQUIRE_TOTP must be true or false"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY is too short"),
    ({"VISION_COUNTERFEIT_REVIEW_THRESHOLD": "high"},
     "VISION_COUNTERFEIT_REVIEW_THRESHOLD must be a number"),
    ({"VISION_COUNTERFEIT_REVIEW_THRESHOLD": "1"},
     "VISION_COUNTERFEIT_REVIEW_THRESHOLD must be a probability"),
])
def test_bad_values_stop_start_up_with_a_clear_message(tmp_path, environ, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ={"INSTANCE_PATH": str(tmp_path), **environ})


def test_production_demands_a_secret_postgres_and_totp(tmp_path):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(environ={"INSTANCE_PATH": str(tmp_path), "APP_ENV": "production"})
    assert "SECRET_KEY must be set" in str(raised.value)
    assert "production needs PostgreSQL" in str(raised.value)
    assert "CARRIER_WEBHOOK_SECRET must be set" in str(raised.value)
    settings = Settings.from_env(environ={
        "INSTANCE_PATH": str(tmp_path), "APP_ENV": "production", "SECRET_KEY": "k" * 40,
        "CARRIER_WEBHOOK_SECRET": "c" * 40,
        "DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r:6379/0"})
    assert settings.totp_required is True
