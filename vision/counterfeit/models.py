"""The latest counterfeit-risk score of each listing, with its reasons.

One row per listing, replaced when the listing is scored again. `input_digest` names what
the score was computed from (the model, the photos and the price), so a job that runs
twice on unchanged inputs recognises its own work.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
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
