"""Likes: a member likes a live listing, which also makes them a watcher of its price.

Sellers cannot like their own listings: a like is a watch for price drops, and the
seller sets the price, so a self-like would only inflate the count buyers see.
Liking twice or unliking twice is harmless.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, func, insert, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation import clock
from foundation.errors import Conflict
from marketplace_core.listings import services as listings
from marketplace_core.listings.models import Listing
from marketplace_core.listings.search import live_listings
from marketplace_core.members.models import Member
from marketplace_core.social import cursors
from marketplace_core.social.models import Like, Notification, NotificationKind
from marketplace_core.social.notifications import notify


def like(s: Session, member: Member, listing_id: int) -> bool:
    """Like a live listing; True if the like is new."""
    listing = listings.get_for_viewer(s, listing_id, member)
    if listing.seller_id == member.id:
        raise Conflict("You cannot like your own listing.", code="own_listing")
    if s.get(Like, (listing.id, member.id)) is not None:
        return False
    s.add(Like(listing_id=listing.id, member_id=member.id, created_at=clock.now()))
    try:
        with s.begin_nested():
            s.flush()
    except IntegrityError:
        return False  # a concurrent like from the same member won
    notify(s, listing.seller_id, NotificationKind.LIKE, actor_id=member.id,
           listing_id=listing.id, payload={"title": listing.title},
           dedupe_key=f"like:{listing.id}:{member.id}")
    return True


def unlike(s: Session, member: Member, listing_id: int) -> None:
    """Remove a like.  A like may be removed after the listing left the site (it is the
    member's own data); without one, a listing they cannot see is a 404."""
    existing = s.get(Like, (listing_id, member.id))
    if existing is None:
        listings.get_for_viewer(s, listing_id, member)
        return
    s.delete(existing)
    s.flush()


def like_count(s: Session, listing_id: int) -> int:
    return s.scalar(select(func.count()).where(Like.listing_id == listing_id)) or 0


def like_counts(s: Session, listing_ids: Iterable[int]) -> dict[int, int]:
    """Counts for a page of listings in one query (0 for those nobody liked)."""
    ids = list(set(listing_ids))
    if not ids:
        return {}
    rows = s.execute(select(Like.listing_id, func.count())
                     .where(Like.listing_id.in_(ids)).group_by(Like.listing_id))
    counts = dict.fromkeys(ids, 0)
    counts.update({listing_id: count for listing_id, count in rows})
    return counts


def likes_it(s: Session, member: Member | None, listing_id: int) -> bool:
    return member is not None and s.get(Like, (listing_id, member.id)) is not None


def like_summary(s: Session, viewer: Member | None, listing_id: int) -> tuple[int, bool]:
    """(like count, whether the viewer likes it) of a listing the viewer may see."""
    listing = listings.get_for_viewer(s, listing_id, viewer)
    return like_count(s, listing.id), likes_it(s, viewer, listing.id)


def liked_listings(s: Session, member: Member, *, cursor: str | None = None,
                   limit: int = 24) -> tuple[list[tuple[Listing, datetime]], str | None]:
    """The member's liked listings that are still live, most recently liked first."""
    statement = (select(Listing, Like.created_at)
                 .join(Like, and_(Like.listing_id == Listing.id, Like.member_id == member.id))
                 .where(live_listings()))
    if cursor:
        liked_at, last_id = cursors.decode(cursor, datetime, int)
        statement = statement.where(or_(
            Like.created_at < liked_at,
            and_(Like.created_at == liked_at, Like.listing_id < last_id)))
    rows = list(s.execute(statement.order_by(Like.created_at.desc(), Like.listing_id.desc())
                          .limit(limit + 1)).all())
    next_cursor = None
    if len(rows) > limit:
        listing, liked_at = rows[limit - 1]
        next_cursor = cursors.encode(liked_at, listing.id)
    return rows[:limit], next_cursor


def tell_likers_price_dropped(s: Session, listing_id: int, old: int, new: int) -> int:
    """One notification per liker, written by a single INSERT ... SELECT in the
    transaction that lowered the price (so a listing with thousands of likers costs
    one statement, and the notifications exist exactly when the new price does)."""
    listing = s.get(Listing, listing_id)
    if listing is None:
        return 0
    payload = {"title": listing.title, "old_price_paise": old, "new_price_paise": new}
    likers = select(
        Like.member_id, literal(NotificationKind.PRICE_DROP.value),
        literal(listing.seller_id), literal(listing.id),
        literal(payload, Notification.payload.type), literal(clock.now(),
                                                             Notification.created_at.type),
    ).where(Like.listing_id == listing.id, Like.member_id != listing.seller_id)
    result = s.execute(insert(Notification).from_select(
        ["recipient_id", "kind", "actor_id", "listing_id", "payload", "created_at"], likers))
    return result.rowcount or 0
