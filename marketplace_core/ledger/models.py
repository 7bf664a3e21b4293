"""The ledger's tables: accounts, append-only transactions and entries, order holds,
payouts and idempotency keys.

Sign convention: an entry's `amount_paise` is positive for a debit and negative for a
credit, so the entries of every transaction sum to zero.  Each account kind has a
normal side (assets are debit-normal, what the platform owes or earns is
credit-normal); `balance` figures are shown on that side, so a positive seller balance
means money the platform owes the seller.

Members and orders are other packages' tables, built concurrently; the ledger keeps
their ids as plain indexed integers rather than foreign keys so that it depends on
nothing above it.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    cast,
    event,
    func,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from foundation import clock
from foundation.db import Base, UTCDateTime

CURRENCY = "INR"


class Side(enum.StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class Scope(enum.StrEnum):
    """What an account belongs to, which decides the ids its key needs."""

    PLATFORM = "platform"
    MEMBER = "member"
    ORDER = "order"


class AccountKind(enum.StrEnum):
    # Money captured from the payment provider and still with the platform; refunds and
    # paid-out payouts leave through it.
    PLATFORM_CASH = "platform_cash"
    # The buyer's payment for one order, held until it is released or refunded.
    ORDER_HELD = "order_held"
    # Released earnings a seller may be paid; negative after a chargeback it could not cover.
    SELLER_AVAILABLE = "seller_available"
    # A seller's money sent to the payout provider and not yet confirmed paid or failed.
    SELLER_PAYOUT_IN_FLIGHT = "seller_payout_in_flight"
    PLATFORM_COMMISSION = "platform_commission"
    # Heavier-than-standard shipping labels charged to the seller at release.
    SHIPPING_LABEL_FEES = "shipping_label_fees"
    # Chargebacks recovered from sellers; it nets against the provider's chargeback debit
    # when the disputes side books it.
    CHARGEBACK_RECOVERY = "chargeback_recovery"

    @property
    def scope(self) -> Scope:
        return _SCOPES[self]

    @property
    def normal_side(self) -> Side:
        return Side.DEBIT if self is AccountKind.PLATFORM_CASH else Side.CREDIT


_SCOPES = {
    AccountKind.PLATFORM_CASH: Scope.PLATFORM,
    AccountKind.ORDER_HELD: Scope.ORDER,
    AccountKind.SELLER_AVAILABLE: Scope.MEMBER,
    AccountKind.SELLER_PAYOUT_IN_FLIGHT: Scope.MEMBER,
    AccountKind.PLATFORM_COMMISSION: Scope.PLATFORM,
    AccountKind.SHIPPING_LABEL_FEES: Scope.PLATFORM,
    AccountKind.CHARGEBACK_RECOVERY: Scope.PLATFORM,
}


class TransactionKind(enum.StrEnum):
    CAPTURE = "capture"
    RELEASE = "release"
    REFUND = "refund"
    SPLIT = "split"
    PAYOUT_START = "payout_start"
    PAYOUT_PAID = "payout_paid"
    PAYOUT_FAILED = "payout_failed"
    CHARGEBACK_RECOVERY = "chargeback_recovery"


class HoldState(enum.StrEnum):
    """Two-phase funds per order: pending (held) -> posted (released) | voided (refunded),
    or both at once (split).  Partial refunds leave the hold held."""

    HELD = "held"
    RELEASED = "released"
    REFUNDED = "refunded"
    SPLIT = "split"


class PayoutState(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"


def account_key(kind: AccountKind, member_id: int | None, order_id: int | None,
                currency: str = CURRENCY) -> str:
    """One string per account, so uniqueness holds on every backend (NULLs never clash
    in a unique constraint, and platform accounts have neither id)."""
    parts = [str(kind)]
    if member_id is not None:
        parts.append(f"member:{member_id}")
    if order_id is not None:
        parts.append(f"order:{order_id}")
    parts.append(currency)
    return "/".join(parts)


class Account(Base):
    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    member_id: Mapped[int | None] = mapped_column(Integer, index=True)
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    @property
    def account_kind(self) -> AccountKind:
        return AccountKind(self.kind)

    def __repr__(self) -> str:
        return f"<Account {self.key}>"


class LedgerTransaction(Base):
    """A balanced set of entries, written once.  A correction is a new transaction."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    member_id: Mapped[int | None] = mapped_column(Integer, index=True)
    memo: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    entries: Mapped[list[Entry]] = relationship(back_populates="transaction",
                                                order_by="Entry.id")

    def __repr__(self) -> str:
        return f"<LedgerTransaction {self.id} {self.kind} order={self.order_id}>"


class Entry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount_paise <> 0", name="amount_not_zero"),
        # Balances are sums per account; with the amount in the index PostgreSQL answers
        # them from the index alone.
        Index("ix_ledger_entries_account_amount", "account_id", "amount_paise"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"),
                                                index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_paise: Mapped[int] = mapped_column(BigInteger)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[Account] = relationship()


class Hold(Base):
    """The buyer's payment for one order while the platform holds it."""

    __tablename__ = "ledger_holds"
    __table_args__ = (CheckConstraint("amount_paise > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(Integer, unique=True)
    buyer_id: Mapped[int] = mapped_column(Integer, index=True)
    seller_id: Mapped[int] = mapped_column(Integer, index=True)
    amount_paise: Mapped[int] = mapped_column(BigInteger)  # what was captured
    provider_ref: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16), default=HoldState.HELD, index=True)
    capture_transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Payout(Base):
    __tablename__ = "ledger_payouts"
    __table_args__ = (CheckConstraint("amount_paise > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default=PayoutState.PENDING, index=True)
    start_transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    settle_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transactions.id"))
    provider_ref: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyKey(Base):
    """The first result of a money-moving request, found again by its key."""

    __tablename__ = "ledger_idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    operation: Mapped[str] = mapped_column(String(40))
    params_hash: Mapped[str] = mapped_column(String(64))
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_payouts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


def paise_sum(column):
    """SUM of a paise column as a whole number, 0 over no rows.  (PostgreSQL sums
    bigints as numeric, which would come back as Decimal.)"""
    return func.coalesce(cast(func.sum(column), BigInteger), 0)


class LedgerImmutable(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_ledger_changes(session: Session, _ctx, _instances) -> None:
    """The ORM half of append-only (the migration's triggers are the database half)."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (Entry, LedgerTransaction)) and (
                obj in session.deleted or session.is_modified(obj)):
            raise LedgerImmutable("ledger entries and transactions are append-only")
