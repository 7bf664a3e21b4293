"""The following feed: new listings and shares from the closets a member follows.

Each listing appears once, at its newest activity (a listing published yesterday and
shared an hour ago shows as the share), and only while it is live.  The feed reads
activity from the last FEED_WINDOW_DAYS, which bounds the work per page however long
a member has followed a closet (fan-out on read: no per-follower copies to keep).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from foundation import clock
from foundation.config import current as settings
from marketplace_core.listings.models import Listing
from marketplace_core.listings.search import live_listings
from marketplace_core.members.models import Follow, Member
from marketplace_core.social import cursors
from marketplace_core.social.models import Share

LISTED = "listed"
SHARED = "shared"


@dataclass(frozen=True)
class FeedItem:
    listing: Listing
    activity: str  # "listed" or "shared"
    actor_id: int
    at: datetime


def following_feed(s: Session, member: Member, *, cursor: str | None = None,
                   limit: int = 24) -> tuple[list[FeedItem], str | None]:
    newest = _newest_activity_per_listing(member)
    statement = (select(Listing, newest.c.at, newest.c.activity, newest.c.actor_id)
                 .join(newest, newest.c.listing_id == Listing.id)
                 .where(newest.c.rank == 1, live_listings()))
    if cursor:
        at, last_id = cursors.decode(cursor, datetime, int)
        statement = statement.where(or_(newest.c.at < at,
                                        and_(newest.c.at == at, Listing.id < last_id)))
    rows = list(s.execute(statement.order_by(newest.c.at.desc(), Listing.id.desc())
                          .limit(limit + 1)).all())
    items = [FeedItem(listing=listing, activity=activity, actor_id=actor_id, at=at)
             for listing, at, activity, actor_id in rows]
    next_cursor = None
    if len(items) > limit:
        last = items[limit - 1]
        next_cursor = cursors.encode(last.at, last.listing.id)
    return items[:limit], next_cursor


def _newest_activity_per_listing(member: Member):
    followed = select(Follow.followee_id).where(Follow.follower_id == member.id)
    since = clock.now() - timedelta(days=settings().FEED_WINDOW_DAYS)
    listed = select(Listing.id.label("listing_id"), Listing.published_at.label("at"),
                    literal(LISTED).label("activity"), Listing.seller_id.label("actor_id")
                    ).where(Listing.seller_id.in_(followed), Listing.published_at >= since,
                            live_listings())
    shared = select(Share.listing_id, Share.created_at, literal(SHARED), Share.sharer_id
                    ).where(Share.sharer_id.in_(followed), Share.created_at >= since)
    activity = union_all(listed, shared).subquery()
    rank = func.row_number().over(
        partition_by=activity.c.listing_id,
        order_by=(activity.c.at.desc(), activity.c.activity.desc(),
                  activity.c.actor_id.desc()))
    return select(activity, rank.label("rank")).subquery()
