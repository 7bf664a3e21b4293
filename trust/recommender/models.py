"""The recommender's tables: runs, trained rankers, each member's precomputed candidates,
and the impressions of served pages.

Candidates are one row per member holding a JSON list (listing, seller, score, source)
and the member's interest profile: the feed reads one row by primary key, never a
few hundred.  Impressions are append-only facts (a served page is pushed to Redis and
written here in batches by `impressions.flush_impressions`), the exposure dashboard's
input.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation import clock
from foundation.db import Base, JSONType, UTCDateTime
from vision.models import RunState

__all__ = ["RunState", "RecommendationRun", "RecommenderModel", "MemberCandidates",
           "FeedImpression"]


class RunKind:
    TRAIN = "train"            # learn a ranker from the interactions
    PRECOMPUTE = "precompute"  # fit ALS and the profiles, store every member's candidates


class RecommendationRun(Base):
    __tablename__ = "rec_runs"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'running', 'succeeded', 'failed')",
                        name="state_known"),
        CheckConstraint("kind IN ('train', 'precompute')", name="kind_known"),
        Index("ix_rec_runs_kind_state", "kind", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(12), default=RunState.PENDING)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(String(200), default="")
    requested_by: Mapped[str] = mapped_column(String(80))   # "cli", "staff:3", "demo"
    model_id: Mapped[int | None] = mapped_column(Integer)     # trained or used
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Cold start: the most popular live listings when the run computed.
    popular: Mapped[list[list[Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class RecommenderModel(Base):
    __tablename__ = "rec_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("rec_runs.id"))
    ranker: Mapped[dict[str, Any]] = mapped_column(JSONType)      # ranker.Ranker.to_json
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    loss_curve: Mapped[list[float]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class MemberCandidates(Base):
    __tablename__ = "rec_member_candidates"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("rec_runs.id"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("rec_models.id"))
    # [[listing_id, seller_id, score, source], ...], best first.
    candidates: Mapped[list[list[Any]]] = mapped_column(JSONType, default=list)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The data the candidates rest on ends here: fresh listings are the ones after it.
    data_until: Mapped[datetime] = mapped_column(UTCDateTime)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class FeedImpression(Base):
    __tablename__ = "rec_impressions"
    __table_args__ = (Index("ix_rec_impressions_served", "served_at"),
                      Index("ix_rec_impressions_page", "page_key", "position", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    listing_id: Mapped[int] = mapped_column(Integer)
    seller_id: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    seller_tier: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(12))
    served_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The served page (buffered in Redis, flushed in batches): a page already written is
    # never written twice when a flush is retried.
    page_key: Mapped[str | None] = mapped_column(String(32))
