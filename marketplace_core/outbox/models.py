"""The outbox's tables: one row per effect that must reach an outside system, and the
latest reconciliation results.

An effect is written in the same transaction as the ledger posting that causes it, so it
exists exactly when the posting does.  Its `reference` is what the provider or bank sees
and answers idempotently, so delivering it again is harmless.

    pending --answered--> delivered          (the provider's id, status and time kept)
    pending --N failures--> dead --staff retry (audited)--> pending
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from foundation import clock
from foundation.db import Base, JSONType, UTCDateTime


class EffectKind(enum.StrEnum):
    CARD_REFUND = "card_refund"
    CARD_VOID = "card_void"
    BANK_PAYOUT = "bank_payout"


class EffectState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class OutboxEffect(Base):
    __tablename__ = "outbox_effects"
    __table_args__ = (
        # The sweep's question: pending effects whose next try is due, oldest first.
        Index("ix_outbox_effects_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(120), unique=True)
    payload: Mapped[dict] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(12), default=EffectState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_error: Mapped[str | None] = mapped_column(String(300))
    provider_answer_ref: Mapped[str | None] = mapped_column(String(120))
    provider_status: Mapped[str | None] = mapped_column(String(40))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    payout_id: Mapped[int | None] = mapped_column(Integer, index=True)
    member_id: Mapped[int | None] = mapped_column(Integer)
    ledger_transaction_id: Mapped[int | None] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"<OutboxEffect {self.id} {self.kind} {self.reference} {self.state}>"


class ReconciliationRun(Base):
    """One run of the reconciliation: its whole result, and whether it found nothing."""

    __tablename__ = "reconciliation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    clean: Mapped[bool] = mapped_column(Boolean)
    result: Mapped[dict] = mapped_column(JSONType)
