"""What the demo generator knows and the product does not: the ground truth.

Which listings are counterfeit (and how), which reuse another listing's photos, and
each demo member's latent tastes.  Benchmarks and model evaluation read it; nothing in
the product's own decisions may.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base


class DemoListingTruth(Base):
    __tablename__ = "demo_listing_truth"

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(40), index=True)  # the physical item
    model_key: Mapped[str] = mapped_column(String(60))
    counterfeit: Mapped[bool] = mapped_column(Boolean, default=False)
    flaws: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Photos copied from another listing (stolen or re-posted), and how.
    reused_from_listing_id: Mapped[int | None] = mapped_column(Integer)
    reuse_kind: Mapped[str | None] = mapped_column(String(20))


class DemoMemberTaste(Base):
    __tablename__ = "demo_member_tastes"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    taste: Mapped[dict[str, Any]] = mapped_column(JSON)
