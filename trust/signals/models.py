"""Stored trust: each seller's score and each listing's risk as last computed, their
history, and the versions of the trust weights.

The current rows are what the feed reads on every request (one indexed lookup per
page); the snapshots are append-only, written only when a value changes, so the console
can draw a seller's or a listing's trust over time.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation import clock
from foundation.db import Base, JSONType, UTCDateTime


class SellerTrustRecord(Base):
    __tablename__ = "trust_seller_scores"
    # The analysts' Sellers page: lowest score first, overall or within one tier.
    __table_args__ = (Index("ix_trust_seller_scores_score", "score", "seller_id"),
                      Index("ix_trust_seller_scores_tier_score", "tier", "score", "seller_id"))

    seller_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    tier: Mapped[str] = mapped_column(String(12), index=True)
    confidence: Mapped[float] = mapped_column(Float)
    parts: Mapped[dict[str, float]] = mapped_column(JSONType, default=dict)
    counts: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    weights_version: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class SellerTrustSnapshot(Base):
    __tablename__ = "trust_seller_history"
    __table_args__ = (Index("ix_trust_seller_history_seller", "seller_id", "computed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    score: Mapped[float] = mapped_column(Float)
    tier: Mapped[str] = mapped_column(String(12))
    parts: Mapped[dict[str, float]] = mapped_column(JSONType, default=dict)
    cause: Mapped[str] = mapped_column(String(60), default="")  # the event that moved it
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ItemRiskRecord(Base):
    __tablename__ = "trust_item_risks"

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    exclusion_reason: Mapped[str | None] = mapped_column(String(40))
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    flag_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    authenticated: Mapped[bool] = mapped_column(Boolean, default=False)
    counterfeit_score: Mapped[float | None] = mapped_column(Float)
    duplicate_flags: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ItemRiskSnapshot(Base):
    __tablename__ = "trust_item_history"
    __table_args__ = (Index("ix_trust_item_history_listing", "listing_id", "computed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    cause: Mapped[str] = mapped_column(String(60), default="")
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class TrustWeightsVersion(Base):
    """Append-only: a change of weights is a new version; the newest one is in force."""
    __tablename__ = "trust_weights_versions"

    version: Mapped[int] = mapped_column(primary_key=True)
    weights: Mapped[dict[str, float]] = mapped_column(JSONType)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class TrustPending(Base):
    """A seller or listing whose trust must be computed again: written by the event
    handlers in the same transaction as the change (so a committed change always leaves
    a mark), cleared by the recompute job that handled it.  A mark the job never cleared
    (a lost or overtaken job) is what the periodic sweep picks up.

    `version` grows with every mark: a job clears the mark only if nobody marked the
    subject again while it computed."""
    __tablename__ = "trust_pending"

    subject: Mapped[str] = mapped_column(String(8), primary_key=True)   # seller | listing
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    cause: Mapped[str] = mapped_column(String(60), default="")
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
