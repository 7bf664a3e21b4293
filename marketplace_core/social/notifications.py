"""In-app notifications: writing them, listing them newest first, marking them read.

Newest first rather than unread first: the order of a list must not change as the
member reads it, or keyset pages would skip and repeat items.  The unread count and
an `unread_only` filter give the "what's new" view instead.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation import clock
from foundation.errors import ValidationFailed
from marketplace_core.members.models import Member
from marketplace_core.social import cursors
from marketplace_core.social.models import Notification, NotificationKind


def notify(s: Session, recipient_id: int, kind: NotificationKind, *,
           actor_id: int | None = None, listing_id: int | None = None,
           comment_id: int | None = None, payload: dict[str, Any] | None = None,
           dedupe_key: str | None = None) -> Notification | None:
    """Write one notification; None when it would tell members about their own act, or
    repeat one with the same dedupe key."""
    if actor_id is not None and actor_id == recipient_id:
        return None
    if dedupe_key is not None and _already_sent(s, recipient_id, dedupe_key):
        return None
    notification = Notification(
        recipient_id=recipient_id, kind=kind, actor_id=actor_id, listing_id=listing_id,
        comment_id=comment_id, payload=payload or {}, dedupe_key=dedupe_key,
        created_at=clock.now())
    s.add(notification)
    try:
        with s.begin_nested():
            s.flush()
    except IntegrityError:
        return None  # a concurrent request wrote the same deduplicated notification
    return notification


def _already_sent(s: Session, recipient_id: int, dedupe_key: str) -> bool:
    return s.scalar(select(Notification.id).where(
        Notification.recipient_id == recipient_id,
        Notification.dedupe_key == dedupe_key)) is not None


def list_for(s: Session, member: Member, *, unread_only: bool = False,
             cursor: str | None = None, limit: int = 24
             ) -> tuple[list[Notification], str | None]:
    statement = select(Notification).where(Notification.recipient_id == member.id)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    if cursor:
        (last_id,) = cursors.decode(cursor, int)
        statement = statement.where(Notification.id < last_id)
    rows = list(s.scalars(statement.order_by(Notification.id.desc()).limit(limit + 1)))
    next_cursor = cursors.encode(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def unread_count(s: Session, member: Member) -> int:
    return s.scalar(select(func.count()).where(
        Notification.recipient_id == member.id, Notification.read_at.is_(None))) or 0


def mark_read(s: Session, member: Member, ids: list[int]) -> int:
    """Mark the member's notifications read; any id that is not theirs refuses the lot
    (and does not say whether it exists)."""
    wanted = set(ids)
    if not wanted:
        raise ValidationFailed("Name at least one notification.", fields={"ids": "required"})
    owned = set(s.scalars(select(Notification.id).where(
        Notification.recipient_id == member.id, Notification.id.in_(wanted))))
    unknown = sorted(wanted - owned)
    if unknown:
        raise ValidationFailed("Some of those notifications are not yours or do not exist.",
                               fields={"ids": "unknown: " + ", ".join(map(str, unknown[:20]))})
    return _mark(s, member, Notification.id.in_(wanted))


def mark_all_read(s: Session, member: Member) -> int:
    return _mark(s, member, true())


def _mark(s: Session, member: Member, condition) -> int:
    now: datetime = clock.now()
    result = s.execute(
        update(Notification)
        .where(Notification.recipient_id == member.id, Notification.read_at.is_(None),
               condition)
        .values(read_at=now)
        .execution_options(synchronize_session="fetch"))
    return result.rowcount or 0
