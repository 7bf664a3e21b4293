"""What members did, read from the marketplace's own tables: the recommender's input.

Each kind of interaction says something different about how much a member wants an item:
buying it most, then making an offer, liking (a like is a watch), commenting, sharing
(members share for their followers and parties, not only for themselves).  Follows are a
member -> seller relation, kept apart.  Everything is read as plain tuples (no ORM
objects): the batch reads every interaction at once.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace_core.members.models import Follow
from marketplace_core.offers.models import Offer
from marketplace_core.orders.models import Order, OrderItem
from marketplace_core.social.models import Comment, Like, Share

KIND_WEIGHTS: dict[str, float] = {
    "purchase": 5.0, "offer": 3.0, "like": 2.0, "comment": 1.5, "share": 1.0}


@dataclass(frozen=True)
class Interaction:
    member_id: int
    listing_id: int
    kind: str
    at: datetime

    @property
    def weight(self) -> float:
        return KIND_WEIGHTS[self.kind]


def load_interactions(s: Session, *, until: datetime | None = None,
                      member_id: int | None = None) -> list[Interaction]:
    """Every interaction before `until` (all when None), oldest first; one member's only
    when `member_id` is given (the cold-start path reads a single member's)."""
    queries = {
        "like": select(Like.member_id, Like.listing_id, Like.created_at),
        "purchase": select(Order.buyer_id, OrderItem.listing_id, Order.placed_at)
        .join(OrderItem, OrderItem.order_id == Order.id),
        "offer": select(Offer.buyer_id, Offer.listing_id, Offer.created_at)
        .where(Offer.listing_id.is_not(None)),
        "comment": select(Comment.author_id, Comment.listing_id, Comment.created_at)
        .where(Comment.is_seller_reply.is_(False)),
        "share": select(Share.sharer_id, Share.listing_id, Share.created_at),
    }
    found: list[Interaction] = []
    for kind, query in queries.items():
        member_col, _listing_col, at_col = query.selected_columns
        if until is not None:
            query = query.where(at_col < until)
        if member_id is not None:
            query = query.where(member_col == member_id)
        found.extend(Interaction(m, listing, kind, at) for m, listing, at in s.execute(query))
    found.sort(key=lambda i: (i.at, i.member_id, i.listing_id))
    return found


def load_follows(s: Session, *, until: datetime | None = None,
                 member_id: int | None = None) -> dict[int, set[int]]:
    query = select(Follow.follower_id, Follow.followee_id)
    if until is not None:
        query = query.where(Follow.created_at < until)
    if member_id is not None:
        query = query.where(Follow.follower_id == member_id)
    follows: dict[int, set[int]] = defaultdict(set)
    for follower, followee in s.execute(query):
        follows[follower].add(followee)
    return dict(follows)


def time_split(interactions: list[Interaction], test_fraction: float = 0.2,
               ) -> tuple[list[Interaction], list[Interaction], datetime]:
    """Train on the past, test on the future: the cut is the time below which
    (1 - test_fraction) of the interactions fall."""
    if not interactions:
        raise ValueError("no interactions to split")
    ordered = sorted(interactions, key=lambda i: i.at)
    cut = ordered[min(len(ordered) - 1, int(len(ordered) * (1 - test_fraction)))].at
    return ([i for i in ordered if i.at < cut], [i for i in ordered if i.at >= cut], cut)
