"""Orders: what was bought, from whom, for how much, and where the sale stands.

An order's money lives in the ledger (captured into held funds at placement, released
to the seller at acceptance or refunded at cancellation); the order keeps the figures
the buyer agreed to and the state machine that decides when money may move.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation import clock
from foundation.db import Base, UTCDateTime
from marketplace_core.listings.models import Listing


class OrderStatus(enum.StrEnum):
    PLACED = "placed"          # paid, awaiting shipment
    SHIPPED = "shipped"
    DELIVERED = "delivered"    # the buyer's acceptance window is open
    COMPLETED = "completed"    # accepted; funds released to the seller
    CANCELLED = "cancelled"    # before shipping; the buyer refunded in full
    REFUNDED = "refunded"      # a not-as-described case refunded the buyer in full


class OrderSource(enum.StrEnum):
    BUY_NOW = "buy_now"
    OFFER = "offer"
    BUNDLE = "bundle"


# Which state each transition may start from.
TRANSITIONS: dict[OrderStatus, set[OrderStatus]] = {
    OrderStatus.PLACED: {OrderStatus.SHIPPED, OrderStatus.CANCELLED},
    OrderStatus.SHIPPED: {OrderStatus.DELIVERED, OrderStatus.REFUNDED},
    OrderStatus.DELIVERED: {OrderStatus.COMPLETED, OrderStatus.REFUNDED},
}


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("buyer_id", "idempotency_key", name="uq_orders_buyer_key"),
        CheckConstraint("items_total_paise > 0", name="items_total_positive"),
        CheckConstraint("discount_paise >= 0 AND discount_paise < items_total_paise",
                        name="discount_in_range"),
        CheckConstraint("shipping_paise >= 0", name="shipping_not_negative"),
        CheckConstraint("label_surcharge_paise >= 0", name="surcharge_not_negative"),
        CheckConstraint("total_paise = items_total_paise - discount_paise + shipping_paise",
                        name="total_adds_up"),
        CheckConstraint("buyer_id <> seller_id", name="not_own_listing"),
        Index("ix_orders_buyer", "buyer_id", "id"),
        Index("ix_orders_seller", "seller_id", "id"),
        # The sweeps look for overdue placed and delivered orders.
        Index("ix_orders_status_placed", "status", "placed_at"),
        Index("ix_orders_status_delivered", "status", "delivered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    source: Mapped[str] = mapped_column(String(16))
    # Other packages' rows, kept as plain ids so that orders depend on nothing above them.
    offer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    bundle_id: Mapped[int | None] = mapped_column(Integer, index=True)
    items_total_paise: Mapped[int] = mapped_column(BigInteger)
    discount_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    shipping_paise: Mapped[int] = mapped_column(BigInteger)       # paid by the buyer
    total_paise: Mapped[int] = mapped_column(BigInteger)          # what was captured
    # A heavier-than-standard label, charged to the seller when funds are released.
    label_surcharge_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    commission_paise: Mapped[int | None] = mapped_column(BigInteger)  # set at release
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.PLACED)
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_case_ref: Mapped[str | None] = mapped_column(String(64))
    payment_method: Mapped[str] = mapped_column(String(32))
    provider_ref: Mapped[str] = mapped_column(String(100))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(16))  # "buyer" | "system" | "case"
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(16))  # "buyer" | "system"
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    items: Mapped[list[OrderItem]] = relationship(order_by="OrderItem.id",
                                                  back_populates="order")

    __mapper_args__ = {"version_id_col": version}

    # Set (not stored) when place_order found this order under a repeated idempotency key.
    replayed: bool = False

    @property
    def sale_price_paise(self) -> int:
        """What the items sold for after the discount: the base of the commission."""
        return self.items_total_paise - self.discount_paise

    @property
    def total_weight_grams(self) -> int:
        """The parcel's weight for the shipping label: the sum of the items' weights."""
        return sum(item.listing.weight_grams for item in self.items)


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (
        UniqueConstraint("order_id", "listing_id", name="uq_order_items_order_listing"),
        CheckConstraint("price_paise > 0", name="price_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    price_paise: Mapped[int] = mapped_column(BigInteger)

    order: Mapped[Order] = relationship(back_populates="items")
    listing: Mapped[Listing] = relationship()


class OrderEvent(Base):
    """Every transition of an order (and every hold), with who caused it."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(80))  # "member:12", "system", "case:ABC"
    note: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Rating(Base):
    """A buyer's "love note" on a completed order, shown in the seller's closet."""

    __tablename__ = "order_ratings"
    __table_args__ = (
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
        Index("ix_order_ratings_seller", "seller_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    stars: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class PayoutAccount(Base):
    """Where a seller's earnings are sent (an Indian bank account: number and IFSC)."""

    __tablename__ = "payout_accounts"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    account_number: Mapped[str] = mapped_column(String(18))
    ifsc: Mapped[str] = mapped_column(String(11))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
