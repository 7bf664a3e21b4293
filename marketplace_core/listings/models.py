from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    or_,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation import clock
from foundation.db import Base, UTCDateTime


class ListingStatus(enum.StrEnum):
    DRAFT = "draft"
    LIVE = "live"
    PENDING_AUTHENTICATION = "pending_authentication"
    SOLD = "sold"
    REMOVED = "removed"


AUTHENTICATED_LIVE_SQL = "status = 'live' AND authenticated_at IS NOT NULL"


class Listing(Base):
    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("price_paise > 0", name="price_positive"),
        CheckConstraint("original_price_paise IS NULL OR original_price_paise > 0",
                        name="original_price_positive"),
        # The buyer-facing queries all start with status = 'live'.
        Index("ix_listings_status_published", "status", "published_at", "id"),
        Index("ix_listings_status_brand", "status", "brand_key", "published_at"),
        Index("ix_listings_status_category", "status", "category", "published_at"),
        Index("ix_listings_status_price", "status", "price_paise", "id"),
        Index("ix_listings_status_shared", "status", "last_shared_at", "id"),
        Index("ix_listings_seller_status", "seller_id", "status"),
        # The authentication workspace's price comparison: the newest live listings of one
        # brand and category, read in id order and stopped after a sample.
        Index("ix_listings_status_brand_category_id", "status", "brand_key", "category", "id"),
        # Its reference listings: the few authenticated ones of a brand and category,
        # newest first; the rare authenticated rows only, so the index stays small.
        Index("ix_listings_authenticated_references", "brand_key", "category",
              "authenticated_at", "id", postgresql_where=text(AUTHENTICATED_LIVE_SQL)
              ).ddl_if(dialect="postgresql"),
        # Substring search at catalogue scale: trigram GIN on PostgreSQL (SQLite scans).
        Index("ix_listings_search_trgm", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    brand: Mapped[str] = mapped_column(String(60))
    brand_key: Mapped[str] = mapped_column(String(60))  # lower-cased, for exact filters
    category: Mapped[str] = mapped_column(String(30))
    size: Mapped[str] = mapped_column(String(20))
    condition: Mapped[str] = mapped_column(String(20))
    colour: Mapped[str] = mapped_column(String(30), default="")
    original_price_paise: Mapped[int | None] = mapped_column(BigInteger)
    price_paise: Mapped[int] = mapped_column(BigInteger)
    weight_grams: Mapped[int] = mapped_column(Integer, default=500)
    status: Mapped[str] = mapped_column(String(24), default=ListingStatus.DRAFT)
    # Lower-cased title, brand, category, colour and description, for text search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sold_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_reason: Mapped[str | None] = mapped_column(String(200))
    # Authentication: valid only while no photo changed after it.
    authenticated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    authentication_certificate: Mapped[str | None] = mapped_column(String(40))
    photos_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    photos: Mapped[list[ListingPhoto]] = relationship(
        order_by="ListingPhoto.position", cascade="all, delete-orphan",
        back_populates="listing")

    __mapper_args__ = {"version_id_col": version}

    @hybrid_property
    def is_authenticated(self) -> bool:
        """Authenticated, and no photo changed since: what staff saw is what buyers see.
        The same rule in SQL (below) for queries that read it without loading listings."""
        if self.authenticated_at is None:
            return False
        return self.photos_changed_at is None or self.photos_changed_at <= self.authenticated_at

    @is_authenticated.inplace.expression
    @classmethod
    def _is_authenticated_expression(cls) -> ColumnElement[bool]:
        return and_(cls.authenticated_at.is_not(None),
                    or_(cls.photos_changed_at.is_(None),
                        cls.photos_changed_at <= cls.authenticated_at))

    @property
    def covershot(self) -> ListingPhoto | None:
        return self.photos[0] if self.photos else None


class ListingPhoto(Base):
    __tablename__ = "listing_photos"
    __table_args__ = (Index("ix_listing_photos_listing", "listing_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    position: Mapped[int] = mapped_column(Integer)
    media_key: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the JPEG
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    listing: Mapped[Listing] = relationship(back_populates="photos")


class PriceChange(Base):
    __tablename__ = "listing_price_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    old_price_paise: Mapped[int] = mapped_column(BigInteger)
    new_price_paise: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ListingEvent(Base):
    """Every state transition of a listing, with who caused it and why."""

    __tablename__ = "listing_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(String(60))
    actor: Mapped[str] = mapped_column(String(80))  # "member:12", "staff:3", "system"
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
