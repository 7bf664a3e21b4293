"""The latest counterfeit-risk score of each listing, with its reasons.

One row per listing, replaced when the listing is scored again. `input_digest` names what
the score was computed from (the model, the photos and the price), so a job that runs
twice on unchanged inputs recognises its own work.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from foundation import clock
from foundation.db import Base, JSONType, UTCDateTime


class CounterfeitScore(Base):
    __tablename__ = "vision_counterfeit_scores"

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    model_digest: Mapped[str] = mapped_column(String(64))
    input_digest: Mapped[str] = mapped_column(String(64))
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class CounterfeitPending(Base):
    """A listing whose photos, price or state changed since it was last scored: written
    in the same transaction as the change (so a committed change always leaves a mark),
    cleared by the scoring job that handled it.  `version` grows with every mark: a job
    clears the mark only if nobody marked the listing again while it scored (a photo
    stored while the job ran keeps its mark), and the periodic sweep enqueues scoring
    for any mark left behind."""
    __tablename__ = "vision_counterfeit_pending"

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
