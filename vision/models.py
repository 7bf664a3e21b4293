"""What the vision pipeline keeps: each photo's signature, the duplicate flags it raised,
and re-index runs.

The database is the truth; the on-disk DuplicateIndex (vision.index_store) is a cache of
the `indexed` signatures that can always be rebuilt from these rows.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from foundation import clock
from foundation.db import Base, JSONType, UTCDateTime

# Bump when hashing, the embedding model or the local features change: a re-index then
# recomputes every signature made by an older engine.
# 2: the colour thumbnail (the colour check of verification).
# 3: the detail thumbnail and the CIELAB colour of the verification by fine detail.
ENGINE_VERSION = "pdq+phash+effnet-lite0+orb+lab+detail/3"


class SignatureState(enum.StrEnum):
    INDEXED = "indexed"      # signed and in the duplicate index
    FAILED = "failed"        # the stored bytes could not be signed: see failure_code


class PhotoSignature(Base):
    """One row per listing photo the pipeline has looked at (signed or failed).

    Deleting the photo deletes its signature (ON DELETE CASCADE); the index forgets it
    on the next reconcile or at once through the photo.removed job."""
    __tablename__ = "vision_photo_signatures"
    __table_args__ = (
        CheckConstraint("state IN ('indexed', 'failed')", name="state_known"),
        Index("ix_vision_photo_signatures_listing", "listing_id"),
        Index("ix_vision_photo_signatures_state", "state", "engine_version"),
    )

    photo_id: Mapped[int] = mapped_column(
        ForeignKey("listing_photos.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    media_key: Mapped[str] = mapped_column(String(64))   # the bytes that were signed
    state: Mapped[str] = mapped_column(String(12))
    engine_version: Mapped[str] = mapped_column(String(40))
    pdq: Mapped[bytes | None] = mapped_column(LargeBinary(32))        # 256 bits
    pdq_quality: Mapped[int | None] = mapped_column(Integer)
    phash: Mapped[bytes | None] = mapped_column(LargeBinary(8))       # 64 bits
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)      # float32[1280]
    # The rest of the signature (keypoints, thumbnail, trim) as an .npz, so the index can
    # be rebuilt from the database alone.
    details: Mapped[bytes | None] = mapped_column(LargeBinary)
    failure_code: Mapped[str | None] = mapped_column(String(40))
    failure_message: Mapped[str | None] = mapped_column(String(300))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class FlagKind(enum.StrEnum):
    STOLEN_PHOTO = "stolen_photo"            # another seller's photo
    RETURNING_REMOVED = "returning_removed"  # a removed listing's photo, any account
    SELLER_SPAM = "seller_spam"              # one seller's near-duplicate live listings


class FlagStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class DuplicateFlag(Base):
    """A photo of `listing_id` is a copy of a photo of the earlier `matched_listing_id`.

    Photo ids are kept as plain integers: a flag is evidence and outlives a photo the
    seller deletes afterwards. `group_id` is the smallest listing id of the connected
    group of flagged listings, so a group is shown together."""
    __tablename__ = "vision_duplicate_flags"
    __table_args__ = (
        UniqueConstraint("photo_id", "matched_photo_id", name="uq_vision_flag_photo_pair"),
        CheckConstraint("kind IN ('stolen_photo', 'returning_removed', 'seller_spam')",
                        name="kind_known"),
        CheckConstraint("status IN ('open', 'confirmed', 'dismissed')", name="status_known"),
        CheckConstraint("listing_id <> matched_listing_id", name="two_listings"),
        Index("ix_vision_duplicate_flags_status_group", "status", "group_id"),
        Index("ix_vision_duplicate_flags_listing", "listing_id"),
        Index("ix_vision_duplicate_flags_matched_listing", "matched_listing_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default=FlagStatus.OPEN)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    photo_id: Mapped[int] = mapped_column(Integer)
    matched_listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    matched_photo_id: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    # How it was verified: alignment, the signals and which fired, the engine version.
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(String(500))


class RunState(enum.StrEnum):
    """The states of long vision work: re-index runs here, training runs in modelops."""
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class VisionRun(Base):
    """A re-index of the catalogue, committed batch by batch so it can resume from
    `last_photo_id` after its worker dies."""
    __tablename__ = "vision_runs"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'running', 'succeeded', 'failed')",
                        name="state_known"),
        Index("ix_vision_runs_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(12), default=RunState.PENDING)
    recompute_all: Mapped[bool] = mapped_column(default=False)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    flags_raised: Mapped[int] = mapped_column(Integer, default=0)
    last_photo_id: Mapped[int] = mapped_column(Integer, default=0)
    requested_by: Mapped[str] = mapped_column(String(80))  # "cli", "staff:3", ...
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class ComparisonState(enum.StrEnum):
    COMPARED = "compared"    # the best-matching listing photo is recorded
    FAILED = "failed"        # nothing to compare with, or unreadable: see failure_code


class CasePhotoComparison(Base):
    """One buyer's dispute photo compared with every photo of the listing as sold: the
    listing photo it matches best (`item_index`, `position` in the case's snapshot), the
    verification score and signals of that pair, and whether it is the same photo."""
    __tablename__ = "vision_case_photo_comparisons"
    __table_args__ = (
        CheckConstraint("state IN ('compared', 'failed')", name="state_known"),
        Index("ix_vision_case_photo_comparisons_case", "case_id"),
    )

    case_photo_id: Mapped[int] = mapped_column(
        ForeignKey("dispute_photos.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_cases.id"))
    state: Mapped[str] = mapped_column(String(12))
    item_index: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    is_duplicate: Mapped[bool] = mapped_column(default=False)
    alignment: Mapped[str | None] = mapped_column(String(40))
    signals: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    failure_code: Mapped[str | None] = mapped_column(String(40))
    engine_version: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
