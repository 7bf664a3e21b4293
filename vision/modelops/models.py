"""The model registry's tables: training runs, versions, thresholds and shadow scores.

    TrainingRun   pending --> running --> succeeded (one new candidate ModelVersion)
                                      \\-> failed (the error; no version)
    ModelVersion  candidate --start shadow--> shadow --stop shadow--> candidate
                  candidate | shadow --promote--> champion --promote another--> retired
                  champion --rollback--> retired, and the champion it replaced comes back

At most one champion and one shadow per kind: partial unique indexes hold that in the
database too, so two analysts promoting at once cannot both win.

The artifact lives in the database (`artifact`, with its SHA-256) rather than a file under
the instance path: artifacts are small (thresholds as JSON, a small classifier), the row
and its bytes commit or roll back together (a training job that fails half-way leaves
neither), and every worker reads it without a shared disk. The SHA-256 keys the scorer
cache and lets anyone check the bytes were not changed.

ThresholdSetting is append-only history: the current threshold of (kind, edit type) is
its newest row.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from foundation import clock
from foundation.db import Base, JSONType, UTCDateTime
from vision.models import RunState  # one state machine for every long vision job


class VersionStatus(enum.StrEnum):
    CANDIDATE = "candidate"
    SHADOW = "shadow"
    CHAMPION = "champion"
    RETIRED = "retired"


class TrainingRun(Base):
    __tablename__ = "vision_training_runs"
    __table_args__ = (Index("ix_vision_training_runs_kind_state", "kind", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16), default=RunState.PENDING.value)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def fraction_done(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0


_CHAMPION_SQL = "status = 'champion'"
_SHADOW_SQL = "status = 'shadow'"


class ModelVersion(Base):
    __tablename__ = "vision_model_versions"
    __table_args__ = (
        UniqueConstraint("kind", "number", name="uq_vision_model_versions_kind_number"),
        Index("uq_vision_model_versions_one_champion", "kind", unique=True,
              sqlite_where=text(_CHAMPION_SQL), postgresql_where=text(_CHAMPION_SQL)),
        Index("uq_vision_model_versions_one_shadow", "kind", unique=True,
              sqlite_where=text(_SHADOW_SQL), postgresql_where=text(_SHADOW_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    number: Mapped[int] = mapped_column(Integer)           # 1, 2, 3 ... per kind
    status: Mapped[str] = mapped_column(String(16), default=VersionStatus.CANDIDATE.value)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    data_snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # evaluation.evaluate(): auc, pr and roc points, calibration bins, brier, confusion;
    # "by_edit_type" when the kind labels its held-out items with one.
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The held-out scores themselves, so a threshold can be chosen again at any time.
    held_out: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    curves: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    artifact: Mapped[bytes] = mapped_column(LargeBinary)
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    training_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("vision_training_runs.id"), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The champion this version replaced when promoted: what a rollback brings back.
    replaced_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("vision_model_versions.id"))

    @property
    def label(self) -> str:
        return f"{self.kind} v{self.number}"


class ThresholdSetting(Base):
    __tablename__ = "vision_threshold_settings"
    __table_args__ = (Index("ix_vision_threshold_settings_kind", "kind", "edit_type",
                            "set_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    edit_type: Mapped[str | None] = mapped_column(String(40))   # None: the whole kind
    version_id: Mapped[int | None] = mapped_column(ForeignKey("vision_model_versions.id"))
    threshold: Mapped[float] = mapped_column(Float)
    target: Mapped[str] = mapped_column(String(200))            # "max recall at precision >= 0.9"
    target_precision: Mapped[float | None] = mapped_column(Float)
    precision: Mapped[float | None] = mapped_column(Float)      # on the held-out items
    recall: Mapped[float | None] = mapped_column(Float)
    expected_flags_per_day: Mapped[float | None] = mapped_column(Float)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ShadowScore(Base):
    """What a shadow (challenger) said about a subject beside what the champion said."""
    __tablename__ = "vision_shadow_scores"
    __table_args__ = (Index("ix_vision_shadow_scores_version", "version_id", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("vision_model_versions.id"))
    champion_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("vision_model_versions.id"))
    subject_id: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    champion_score: Mapped[float | None] = mapped_column(Float)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
