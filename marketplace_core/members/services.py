"""Member sign-up, sign-in tokens, profiles and follows."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation import clock, events, passwords
from foundation.audit.services import record
from foundation.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from marketplace_core.members.models import Follow, Member, MemberToken

TOKEN_LIFETIME = timedelta(days=30)
PASSWORD_MIN_LENGTH = 8
USERNAME_RE = re.compile(r"^[a-z0-9_.]{3,30}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def register(s: Session, *, email: str, username: str, password: str,
             display_name: str | None = None, city: str = "") -> Member:
    email = email.strip().lower()
    username = username.strip().lower()
    problems = {}
    if not EMAIL_RE.match(email):
        problems["email"] = "not a valid email address"
    if not USERNAME_RE.match(username):
        problems["username"] = "3-30 characters: letters, digits, _ and ."
    if len(password) < PASSWORD_MIN_LENGTH:
        problems["password"] = f"at least {PASSWORD_MIN_LENGTH} characters"
    if problems:
        raise ValidationFailed("Cannot sign up with these details.", fields=problems)
    taken = {}
    if s.scalar(select(Member.id).where(Member.email == email)) is not None:
        taken["email"] = "already registered"
    if s.scalar(select(Member.id).where(Member.username == username)) is not None:
        taken["username"] = "already taken"
    if taken:
        raise Conflict("That email or username is taken.", code="already_registered",
                       fields=taken)
    member = Member(email=email, username=username, password_hash=passwords.hash_password(password),
                    display_name=(display_name or username)[:80], city=city[:80], bio="",
                    is_active=True, selling_restricted=False)
    s.add(member)
    try:
        with s.begin_nested():
            s.flush()
    except IntegrityError:
        raise Conflict("That email or username is taken.", code="already_registered") from None
    return member


def sign_in(s: Session, email: str, password: str) -> Member:
    member = s.scalar(select(Member).where(Member.email == email.strip().lower()))
    ok = passwords.verify(member.password_hash if member else None, password)
    if not ok or member is None or not member.is_active:
        raise NotAuthenticated("Email or password is wrong.", code="bad_credentials")
    return member


def issue_token(s: Session, member: Member) -> str:
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    s.add(MemberToken(token_hash=_hash(raw), member_id=member.id, created_at=now,
                      expires_at=now + TOKEN_LIFETIME))
    s.flush()
    return raw


def resolve_token(s: Session, raw: str) -> Member | None:
    if not raw or len(raw) > 200:
        return None
    # One round trip: every API request pays for this lookup.
    return s.scalar(select(Member).join(MemberToken, MemberToken.member_id == Member.id)
                    .where(MemberToken.token_hash == _hash(raw),
                           MemberToken.revoked_at.is_(None),
                           MemberToken.expires_at > clock.now(),
                           Member.is_active.is_(True)))


def revoke_token(s: Session, raw: str) -> None:
    token = s.scalar(select(MemberToken).where(MemberToken.token_hash == _hash(raw)))
    if token is not None and token.revoked_at is None:
        token.revoked_at = clock.now()


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def get_member(s: Session, member_id: int) -> Member:
    member = s.get(Member, member_id)
    if member is None or not member.is_active:
        raise NotFound("No such member.")
    return member


def get_by_username(s: Session, username: str) -> Member:
    member = s.scalar(select(Member).where(Member.username == username.lower()))
    if member is None or not member.is_active:
        raise NotFound("No such member.")
    return member


def update_profile(s: Session, member: Member, changes: dict) -> Member:
    for name in ("display_name", "bio", "city"):
        if name in changes:
            setattr(member, name, changes[name])
    s.flush()
    return member


def follow(s: Session, follower: Member, followee: Member) -> bool:
    """Follow a closet; True if this is new (following twice is harmless)."""
    if follower.id == followee.id:
        raise Conflict("You cannot follow your own closet.", code="follow_self")
    if s.get(Follow, (follower.id, followee.id)) is not None:
        return False
    s.add(Follow(follower_id=follower.id, followee_id=followee.id, created_at=clock.now()))
    try:
        with s.begin_nested():
            s.flush()
    except IntegrityError:
        return False  # a concurrent follow won
    events.emit(s, events.MemberFollowed(follower_id=follower.id, followee_id=followee.id))
    return True


def unfollow(s: Session, follower: Member, followee: Member) -> None:
    s.execute(delete(Follow).where(Follow.follower_id == follower.id,
                                   Follow.followee_id == followee.id))


def follow_counts(s: Session, member_id: int) -> tuple[int, int]:
    followers = s.scalar(select(func.count()).where(Follow.followee_id == member_id))
    following = s.scalar(select(func.count()).where(Follow.follower_id == member_id))
    return followers or 0, following or 0


def get_member_any(s: Session, member_id: int) -> Member:
    """Staff look-ups see deactivated members too."""
    member = s.get(Member, member_id)
    if member is None:
        raise NotFound("No such member.")
    return member


def set_selling_restricted(s: Session, member: Member, *, restricted: bool, reason: str,
                           actor) -> None:
    """Trust & safety: stop (or allow again) a member's selling; audited."""
    if not reason or len(reason) > 200:
        raise ValidationFailed("Give a reason (at most 200 characters).",
                               fields={"reason": "required"})
    if member.selling_restricted == restricted:
        raise Conflict("Nothing to change.", code="unchanged")
    before = {"selling_restricted": member.selling_restricted}
    member.selling_restricted = restricted
    record(s, actor, "member.restrict_selling" if restricted else "member.allow_selling",
           "member", member.id, before=before,
           after={"selling_restricted": restricted, "reason": reason})


def import_member(s: Session, *, email: str, username: str, password_hash: str,
                  display_name: str, city: str = "", bio: str = "") -> Member:
    """Create a member from already-hashed credentials (bulk imports and the demo seed,
    where hashing thousands of passwords one by one would take minutes)."""
    if not EMAIL_RE.match(email) or not USERNAME_RE.match(username):
        raise ValidationFailed("Bad email or username in import.",
                               fields={"email": email, "username": username})
    member = Member(email=email.lower(), username=username.lower(),
                    password_hash=password_hash, display_name=display_name[:80],
                    city=city[:80], bio=bio, is_active=True, selling_restricted=False,
                    created_at=clock.now())
    s.add(member)
    s.flush()
    return member


def hash_password(password: str) -> str:
    return passwords.hash_password(password)
