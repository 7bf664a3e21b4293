"""Likes, comments, shares, Posh Parties and in-app notifications.

Like counts are computed from `likes` with its (listing_id, member_id) primary key
rather than kept in a counter on `listings`: `Listing` carries an optimistic version
column, so a counter there would make every like bump the seller's version (their
concurrent edit would fail as stale) and turn a popular listing's row into a hot spot.
Counting the index is exact by construction and cheap at the sizes a listing reaches.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation import clock
from foundation.db import Base, UTCDateTime
from marketplace_core.listings.models import Listing

JSONType = JSON().with_variant(JSONB(), "postgresql")


class Like(Base):
    """A member likes (and so watches) a listing; at most one row per pair."""

    __tablename__ = "likes"
    __table_args__ = (
        # "My likes", newest first.
        Index("ix_likes_member_created", "member_id", "created_at", "listing_id"),
    )

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Comment(Base):
    """A question or answer under a listing.  Deleting keeps a tombstone (replies point
    at it) but wipes the text."""

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_listing", "listing_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    is_seller_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    listing: Mapped[Listing] = relationship(viewonly=True)

    @property
    def by_seller(self) -> bool:
        return self.author_id == self.listing.seller_id


class ShareTarget(enum.StrEnum):
    FOLLOWERS = "followers"
    PARTY = "party"


class Share(Base):
    """A member shared a listing: to their followers, or into a live Posh Party (which
    also reaches their followers)."""

    __tablename__ = "shares"
    __table_args__ = (
        CheckConstraint("(target = 'party') = (party_id IS NOT NULL)", name="party_target"),
        Index("ix_shares_sharer_created", "sharer_id", "created_at", "listing_id"),
        # A party's listings: newest share per listing.
        Index("ix_shares_party_listing", "party_id", "listing_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    sharer_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    target: Mapped[str] = mapped_column(String(12))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class PartyState(enum.StrEnum):
    """Derived from the clock, never stored: upcoming -> live -> ended."""

    UPCOMING = "upcoming"
    LIVE = "live"
    ENDED = "ended"


class Party(Base):
    """A themed, time-boxed Posh Party.  Empty theme lists mean "any"."""

    __tablename__ = "parties"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("min_price_paise IS NULL OR max_price_paise IS NULL "
                        "OR min_price_paise <= max_price_paise", name="price_range"),
        UniqueConstraint("starts_at", "title", name="uq_parties_slot_title"),
        Index("ix_parties_ends_starts", "ends_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    host_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    departments: Mapped[list[str]] = mapped_column(JSONType, default=list)
    brand_keys: Mapped[list[str]] = mapped_column(JSONType, default=list)
    min_price_paise: Mapped[int | None] = mapped_column(BigInteger)
    max_price_paise: Mapped[int | None] = mapped_column(BigInteger)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(80))  # "staff:3" or "system"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    def state_at(self, moment: datetime) -> PartyState:
        if moment < self.starts_at:
            return PartyState.UPCOMING
        if moment < self.ends_at:
            return PartyState.LIVE
        return PartyState.ENDED


class NotificationKind(enum.StrEnum):
    NEW_FOLLOWER = "new_follower"
    LIKE = "like"
    COMMENT = "comment"
    REPLY = "reply"
    MENTION = "mention"
    PRICE_DROP = "price_drop"
    SHARE = "share"
    ORDER_PLACED = "order_placed"          # to the seller: you made a sale
    ORDER_DELIVERED = "order_delivered"    # to the buyer: accept or report a problem
    ORDER_COMPLETED = "order_completed"    # to the seller: the money is released
    ORDER_CANCELLED = "order_cancelled"    # to both sides
    CASE_UPDATE = "case_update"            # a not-as-described case moved (disputes)


class Notification(Base):
    """An in-app notification.  `dedupe_key` (unique per recipient) keeps repeated acts,
    like unlike-and-like-again, from notifying twice."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_recipient", "recipient_id", "id"),
        Index("ix_notifications_recipient_unread", "recipient_id", "read_at"),
        UniqueConstraint("recipient_id", "dedupe_key", name="uq_notifications_dedupe"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
