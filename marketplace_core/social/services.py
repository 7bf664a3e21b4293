"""The social package's public service functions, in one place for other packages.

The work lives in likes.py, comments.py, shares.py, parties.py, feed.py and
notifications.py; this module names what others may call.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace_core.members.models import Member
from marketplace_core.social.comments import add_comment, delete_comment, list_comments
from marketplace_core.social.feed import FeedItem, following_feed
from marketplace_core.social.likes import (
    like,
    like_count,
    like_counts,
    like_summary,
    liked_listings,
    likes_it,
    tell_likers_price_dropped,
    unlike,
)
from marketplace_core.social.notifications import (
    list_for,
    mark_all_read,
    mark_read,
    notify,
    unread_count,
)
from marketplace_core.social.parties import (
    DAILY_SCHEDULE,
    Slot,
    Theme,
    create_party,
    current_parties,
    get_party,
    party_listings,
    seed_parties_for_day,
    state,
    theme_misfits,
)
from marketplace_core.social.shares import share_to_followers, share_to_party

__all__ = [
    "DAILY_SCHEDULE", "FeedItem", "Slot", "Theme", "add_comment", "create_party",
    "current_parties", "delete_comment", "following_feed", "get_party", "like",
    "like_count", "like_counts", "like_summary", "liked_listings", "likes_it",
    "list_comments", "list_for", "mark_all_read", "mark_read", "members_by_id", "notify",
    "party_listings", "seed_parties_for_day", "share_to_followers", "share_to_party",
    "state", "tell_likers_price_dropped", "theme_misfits", "unlike", "unread_count",
]


def members_by_id(s: Session, ids: Iterable[int | None]) -> dict[int, Member]:
    """The members behind a page of comments or notifications, in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {m.id: m for m in s.scalars(select(Member).where(Member.id.in_(wanted)))}
