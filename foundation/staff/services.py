"""Staff accounts, sign-in, sessions and tokens.

Sign-in failures are counted on the account (lockout after LOGIN_MAX_FAILURES)
and must be committed even though the attempt fails: callers commit the unit of
work after a failed `sign_in` before answering.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from foundation import clock, passwords
from foundation.audit.services import record, snapshot
from foundation.config import Settings
from foundation.errors import Conflict, NotFound, ValidationFailed
from foundation.staff.models import StaffSession, StaffUser
from foundation.staff.permissions import Role

# Verified against when the email is unknown, so timing does not reveal accounts.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SEEN_WRITE_INTERVAL = timedelta(seconds=60)
TOTP_ISSUER = "Posh Trust Console"


@dataclass(frozen=True)
class SignInResult:
    staff: StaffUser | None
    error: str | None = None  # a code: bad_credentials, locked, totp_required, totp_invalid

    @property
    def ok(self) -> bool:
        return self.staff is not None and self.error is None


# --- accounts ------------------------------------------------------------------------

def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def validate_password(password: str, settings: Settings) -> None:
    if not isinstance(password, str) or len(password) < settings.PASSWORD_MIN_LENGTH:
        raise ValidationFailed(
            f"Password must be at least {settings.PASSWORD_MIN_LENGTH} characters.",
            fields={"password": f"at least {settings.PASSWORD_MIN_LENGTH} characters"})


def create_staff(s: Session, settings: Settings, *, email: str, role: str, password: str,
                 display_name: str | None = None, actor: StaffUser | None = None) -> StaffUser:
    email = normalise_email(email)
    problems = {}
    if not EMAIL_RE.match(email):
        problems["email"] = "not a valid email address"
    if role not in {r.value for r in Role}:
        problems["role"] = f"one of {', '.join(r.value for r in Role)}"
    if problems:
        raise ValidationFailed("Cannot create this staff account.", fields=problems)
    validate_password(password, settings)
    if s.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise Conflict("A staff account with this email exists.", code="email_taken",
                       fields={"email": "already in use"})
    staff = StaffUser(email=email, role=role, password_hash=passwords.hash_password(password),
                      display_name=display_name or email.split("@")[0], is_active=True,
                      failed_logins=0)
    s.add(staff)
    s.flush()
    record(s, actor, "staff.create", "staff_user", staff.id,
           after=snapshot(staff, "email", "role", "display_name"))
    return staff


def get_staff(s: Session, staff_id: int) -> StaffUser:
    staff = s.get(StaffUser, staff_id)
    if staff is None:
        raise NotFound("No such staff account.")
    return staff


def change_role(s: Session, actor: StaffUser, staff: StaffUser, role: str) -> None:
    if role not in {r.value for r in Role}:
        raise ValidationFailed("Unknown role.", fields={"role": "unknown role"})
    if staff.id == actor.id:
        raise Conflict("You cannot change your own role.", code="self_change")
    before = snapshot(staff, "role")
    staff.role = role
    revoke_all_sessions(s, staff)  # new permissions apply from the next sign-in
    record(s, actor, "staff.change_role", "staff_user", staff.id, before=before,
           after=snapshot(staff, "role"))


def set_active(s: Session, actor: StaffUser, staff: StaffUser, active: bool) -> None:
    if staff.id == actor.id and not active:
        raise Conflict("You cannot deactivate your own account.", code="self_change")
    before = snapshot(staff, "is_active")
    staff.is_active = active
    if not active:
        revoke_all_sessions(s, staff)
    record(s, actor, "staff.activate" if active else "staff.deactivate", "staff_user",
           staff.id, before=before, after=snapshot(staff, "is_active"))


def reset_password(s: Session, settings: Settings, actor: StaffUser, staff: StaffUser,
                   password: str) -> None:
    validate_password(password, settings)
    staff.password_hash = passwords.hash_password(password)
    staff.failed_logins = 0
    staff.locked_until = None
    revoke_all_sessions(s, staff)
    record(s, actor, "staff.reset_password", "staff_user", staff.id)


# --- sign-in -------------------------------------------------------------------------

def sign_in(s: Session, settings: Settings, email: str, password: str,
            totp_code: str | None = None) -> SignInResult:
    """Check a password (and TOTP when the account has it or policy demands it)."""
    email = normalise_email(email)
    staff = s.scalar(select(StaffUser).where(StaffUser.email == email)) if email else None
    if staff is None:
        passwords.verify(None, password)  # the same time as a known account
        record(s, None, "staff.sign_in_failed", "staff_user", None,
               after={"email": email[:254], "reason": "unknown_email"},
               actor_label=email[:254] or "?")
        return SignInResult(None, "bad_credentials")
    now = clock.now()
    if staff.locked_until and staff.locked_until > now:
        record(s, None, "staff.sign_in_failed", "staff_user", staff.id,
               after={"reason": "locked"}, actor_label=email)
        return SignInResult(None, "locked")
    if not staff.is_active or not _verify(staff.password_hash, password):
        _count_failure(s, settings, staff, "bad_password" if staff.is_active else "inactive")
        return SignInResult(None, "bad_credentials")
    if staff.totp_enabled:
        if not totp_code:
            return SignInResult(staff, "totp_required")
        if not _accept_totp(staff, totp_code):
            _count_failure(s, settings, staff, "bad_totp")
            return SignInResult(None, "totp_invalid")
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now
    record(s, staff, "staff.sign_in", "staff_user", staff.id)
    return SignInResult(staff)


def _verify(password_hash: str, password: str) -> bool:
    return passwords.verify(password_hash, password)


def _count_failure(s: Session, settings: Settings, staff: StaffUser, reason: str) -> None:
    failures = _add_failure(s, staff)
    after = {"reason": reason, "failed_logins": failures}
    if failures >= settings.LOGIN_MAX_FAILURES:
        staff.locked_until = clock.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
        staff.failed_logins = 0
        after["locked_until"] = staff.locked_until
    record(s, None, "staff.sign_in_failed", "staff_user", staff.id, after=after,
           actor_label=staff.email)


def _add_failure(s: Session, staff: StaffUser) -> int:
    """One more failure, counted in the database: parallel wrong guesses each add one
    (a read-then-write would lose some), and the row stays locked until the sign-in
    commits, so the lockout that may follow sees every failure before it."""
    failures = s.execute(update(StaffUser).where(StaffUser.id == staff.id)
                         .values(failed_logins=StaffUser.failed_logins + 1)
                         .returning(StaffUser.failed_logins)
                         .execution_options(synchronize_session=False)).scalar_one()
    set_committed_value(staff, "failed_logins", failures)
    return failures


def complete_second_factor(s: Session, settings: Settings, staff: StaffUser | None,
                           code: str) -> SignInResult:
    """The TOTP step after a correct password (the password was checked moments ago)."""
    if staff is None or not staff.is_active or not staff.totp_enabled:
        return SignInResult(None, "bad_credentials")
    if staff.locked_until and staff.locked_until > clock.now():
        return SignInResult(None, "locked")
    if not _accept_totp(staff, code):
        _count_failure(s, settings, staff, "bad_totp")
        return SignInResult(None, "totp_invalid")
    staff.failed_logins = 0
    staff.last_login_at = clock.now()
    record(s, staff, "staff.sign_in", "staff_user", staff.id, after={"totp": True})
    return SignInResult(staff)


# --- TOTP ----------------------------------------------------------------------------

def begin_totp_enrollment(s: Session, staff: StaffUser) -> str:
    """A new secret to show once; it takes effect when a code from it is confirmed."""
    if staff.totp_enabled:
        raise Conflict("Two-factor sign-in is already set up.", code="totp_enabled")
    staff.totp_secret = pyotp.random_base32()
    s.flush()
    return staff.totp_secret


def totp_uri(staff: StaffUser) -> str:
    return pyotp.TOTP(staff.totp_secret).provisioning_uri(name=staff.email,
                                                          issuer_name=TOTP_ISSUER)


def confirm_totp(s: Session, staff: StaffUser, code: str) -> None:
    if staff.totp_enabled or not staff.totp_secret:
        raise Conflict("Start the set-up first.", code="totp_not_started")
    if not _accept_totp(staff, code):
        raise ValidationFailed("That code is not right; check the clock on your phone.",
                               fields={"code": "invalid code"})
    staff.totp_confirmed_at = clock.now()
    record(s, staff, "staff.totp_enable", "staff_user", staff.id)


def _accept_totp(staff: StaffUser, code: str) -> bool:
    code = (code or "").strip().replace(" ", "")
    if not staff.totp_secret or not code.isdigit():
        return False
    totp = pyotp.TOTP(staff.totp_secret)
    now_ts = clock.now().timestamp()
    current = int(now_ts) // totp.interval
    for step in (current - 1, current, current + 1):  # one step of clock drift
        if secrets.compare_digest(totp.at(step * totp.interval), code):
            if staff.totp_last_step is not None and step <= staff.totp_last_step:
                return False  # a replayed code
            staff.totp_last_step = step
            return True
    return False


# --- sessions and tokens -------------------------------------------------------------

def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def start_session(s: Session, settings: Settings, staff: StaffUser, kind: str,
                  ip: str | None = None, user_agent: str | None = None) -> str:
    """Open a session ("web") or issue a bearer token ("api"); returns the raw secret."""
    raw = secrets.token_urlsafe(32)
    hours = settings.STAFF_SESSION_MAX_HOURS if kind == "web" else settings.STAFF_API_TOKEN_HOURS
    now = clock.now()
    s.add(StaffSession(token_hash=_hash_token(raw), staff_id=staff.id, kind=kind,
                       created_at=now, last_seen_at=now, expires_at=now + timedelta(hours=hours),
                       ip=ip, user_agent=(user_agent or "")[:255] or None))
    s.flush()
    if kind == "api":
        record(s, staff, "staff.token_issue", "staff_user", staff.id)
    return raw


def resolve_session(s: Session, settings: Settings, raw: str | None,
                    kind: str) -> StaffUser | None:
    """The active staff member behind a session or token, or None."""
    if not raw or not isinstance(raw, str) or len(raw) > 200:
        return None
    row = s.scalar(select(StaffSession).where(StaffSession.token_hash == _hash_token(raw),
                                              StaffSession.kind == kind))
    now = clock.now()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    idle = timedelta(minutes=settings.STAFF_SESSION_IDLE_MINUTES)
    if kind == "web" and row.last_seen_at + idle <= now:
        return None
    staff = row.staff
    if not staff.is_active:
        return None
    if now - row.last_seen_at >= SEEN_WRITE_INTERVAL:
        row.last_seen_at = now
    return staff


def end_session(s: Session, raw: str | None) -> None:
    if not raw:
        return
    row = s.scalar(select(StaffSession).where(StaffSession.token_hash == _hash_token(raw)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = clock.now()
        record(s, row.staff, "staff.sign_out", "staff_user", row.staff_id,
               after={"kind": row.kind})


def revoke_all_sessions(s: Session, staff: StaffUser) -> int:
    result = s.execute(update(StaffSession)
                       .where(StaffSession.staff_id == staff.id,
                              StaffSession.revoked_at.is_(None))
                       .values(revoked_at=clock.now()))
    return result.rowcount or 0


def record_sign_out_everywhere(s: Session, staff: StaffUser) -> None:
    record(s, staff, "staff.sign_out_everywhere", "staff_user", staff.id)
