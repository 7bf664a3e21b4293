"""Offers, their event history, bundles and sellers' bundle discounts.

One `Offer` row is one negotiation between a buyer and a seller over a listing or a
bundle: counters change its amount and hand the turn to the other side, and every
transition writes an `OfferEvent`, so the history of counters is the event list.
Orders belong to another package built beside this one, so `order_id` is a plain
indexed integer rather than a foreign key (as in the ledger).
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation import clock
from foundation.db import Base, UTCDateTime


class OfferState(enum.StrEnum):
    PENDING_SELLER = "pending_seller"  # the buyer's offer or counter awaits the seller
    PENDING_BUYER = "pending_buyer"    # the seller's counter (or offer to likers) awaits the buyer
    ACCEPTED = "accepted"              # binding: an order exists
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"            # the side that proposed took it back
    SUPERSEDED = "superseded"          # the item sold another way or left the site


ACTIVE_STATES = (OfferState.PENDING_SELLER, OfferState.PENDING_BUYER)
_ACTIVE_SQL = "state IN ('pending_seller', 'pending_buyer')"


class OfferOrigin(enum.StrEnum):
    BUYER = "buyer"      # a buyer's offer on a listing
    LIKERS = "likers"    # the seller's offer to everyone who liked a listing
    BUNDLE = "bundle"    # a buyer's offer on a whole bundle


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("amount_paise > 0", name="amount_positive"),
        CheckConstraint("buyer_id <> seller_id", name="not_own"),
        CheckConstraint("(listing_id IS NULL) <> (bundle_id IS NULL)", name="one_subject"),
        # One live negotiation per buyer per listing (and per bundle), even under races.
        Index("uq_offers_active_listing", "buyer_id", "listing_id", unique=True,
              sqlite_where=text(_ACTIVE_SQL), postgresql_where=text(_ACTIVE_SQL)),
        Index("uq_offers_active_bundle", "buyer_id", "bundle_id", unique=True,
              sqlite_where=text(_ACTIVE_SQL), postgresql_where=text(_ACTIVE_SQL)),
        # The expiry sweep and "open offers on this listing".
        Index("ix_offers_state_expires", "state", "expires_at"),
        Index("ix_offers_listing_state", "listing_id", "state"),
        Index("ix_offers_bundle_state", "bundle_id", "state"),
        Index("ix_offers_buyer", "buyer_id", "id"),
        Index("ix_offers_seller", "seller_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(12))
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id"))
    bundle_id: Mapped[int | None] = mapped_column(ForeignKey("bundles.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    state: Mapped[str] = mapped_column(String(16))
    # The proposal on the table now, and each side's latest proposal: a counter must fall
    # strictly between them, so every negotiation narrows.
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    buyer_amount_paise: Mapped[int | None] = mapped_column(BigInteger)
    seller_amount_paise: Mapped[int] = mapped_column(BigInteger)
    # The asking price when the negotiation began (a bundle's discounted total).
    list_price_paise: Mapped[int] = mapped_column(BigInteger)
    payment_method: Mapped[str | None] = mapped_column(String(40))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    events: Mapped[list[OfferEvent]] = relationship(order_by="OfferEvent.id",
                                                    back_populates="offer")

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


class OfferEvent(Base):
    """Every transition of an offer: who did it, what amount was on the table."""

    __tablename__ = "offer_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(80))  # "member:12" or "system"
    reason: Mapped[str] = mapped_column(String(60))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    offer: Mapped[Offer] = relationship(back_populates="events")


class BundleState(enum.StrEnum):
    OPEN = "open"
    PURCHASED = "purchased"


class Bundle(Base):
    __tablename__ = "bundles"
    __table_args__ = (
        CheckConstraint("buyer_id <> seller_id", name="not_own"),
        # A buyer keeps one open bundle per closet, as on Poshmark.
        Index("uq_bundles_open", "buyer_id", "seller_id", unique=True,
              sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default=BundleState.OPEN)
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    purchase_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    items: Mapped[list[BundleItem]] = relationship(order_by="BundleItem.id",
                                                   back_populates="bundle")

    @property
    def current_items(self) -> list[BundleItem]:
        return [item for item in self.items if item.dropped_at is None]


class BundleItem(Base):
    """A listing in a bundle; an item that stops being live is dropped, with the reason."""

    __tablename__ = "bundle_items"
    __table_args__ = (UniqueConstraint("bundle_id", "listing_id", name="uq_bundle_items_listing"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundles.id"))
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    dropped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dropped_reason: Mapped[str | None] = mapped_column(String(40))

    bundle: Mapped[Bundle] = relationship(back_populates="items")


class SellerBundleDiscount(Base):
    """A seller's standing bundle offer: `percent` off bundles of `min_items` or more."""

    __tablename__ = "seller_bundle_discounts"
    __table_args__ = (
        CheckConstraint("percent >= 0 AND percent <= 100", name="percent_range"),
        CheckConstraint("min_items >= 2", name="min_items_range"),
    )

    seller_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    percent: Mapped[int] = mapped_column(Integer)
    min_items: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
