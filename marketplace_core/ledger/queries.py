"""Reading money: per-order figures and per-member balances, all summed from entries."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from foundation.errors import NotFound
from marketplace_core.ledger import accounts
from marketplace_core.ledger.models import (
    Account,
    AccountKind,
    Entry,
    Hold,
    LedgerTransaction,
    Payout,
    TransactionKind,
    paise_sum,
)

RELEASE_KINDS = {TransactionKind.RELEASE, TransactionKind.SPLIT}
REFUND_KINDS = {TransactionKind.REFUND, TransactionKind.SPLIT}
# Where released money lands: the seller's share and the platform's fees.
RELEASED_TO = {AccountKind.SELLER_AVAILABLE, AccountKind.PLATFORM_COMMISSION,
               AccountKind.SHIPPING_LABEL_FEES}
FIGURES = ("captured_paise", "held_paise", "released_paise", "refunded_paise")


def order_money(s: Session, order_id: int) -> dict[str, int]:
    """The four figures the public API shows for an order (zeros before payment)."""
    return orders_money(s, [order_id])[order_id]


def orders_money(s: Session, order_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """order_money for many orders in one query (an order list shows all of them).

    Each figure sums a different set of entries, so that held + released + refunded
    == captured is a real check (invariants.py does it, summing held funds per
    account rather than per transaction), not true by construction.
    """
    order_ids = list(order_ids)
    figures = {order: dict.fromkeys(FIGURES, 0) for order in order_ids}
    rows = s.execute(
        select(LedgerTransaction.order_id,
               _credits_where((LedgerTransaction.kind == TransactionKind.CAPTURE)
                              & (Account.kind == AccountKind.ORDER_HELD)),
               -paise_sum(case((Account.kind == AccountKind.ORDER_HELD, Entry.amount_paise),
                               else_=0)),
               _credits_where(LedgerTransaction.kind.in_(_names(RELEASE_KINDS))
                              & Account.kind.in_(_names(RELEASED_TO))),
               # Refunds leave through platform cash, back to the buyer's payment method.
               _credits_where(LedgerTransaction.kind.in_(_names(REFUND_KINDS))
                              & (Account.kind == AccountKind.PLATFORM_CASH)))
        .join(Entry, Entry.transaction_id == LedgerTransaction.id)
        .join(Account, Entry.account_id == Account.id)
        .where(LedgerTransaction.order_id.in_(order_ids))
        .group_by(LedgerTransaction.order_id)).all()
    for order, *values in rows:
        figures[order] = dict(zip(FIGURES, values, strict=True))
    return figures


def chargebacks_recovered(s: Session, order_id: int) -> int:
    """Paise taken back from the seller for the order's card chargebacks."""
    return s.execute(
        select(paise_sum(Entry.amount_paise))
        .join(LedgerTransaction, Entry.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.order_id == order_id,
               LedgerTransaction.kind == TransactionKind.CHARGEBACK_RECOVERY,
               Entry.amount_paise > 0)).scalar_one()


def seller_balance(s: Session, member_id: int) -> int:
    """What the platform owes the seller now, in paise; negative after a chargeback the
    balance could not cover."""
    return accounts.balance_of(s, AccountKind.SELLER_AVAILABLE, member_id=member_id)


def payout_in_flight(s: Session, member_id: int) -> int:
    return accounts.balance_of(s, AccountKind.SELLER_PAYOUT_IN_FLIGHT, member_id=member_id)


def hold_for(s: Session, order_id: int) -> Hold | None:
    return s.execute(select(Hold).where(Hold.order_id == order_id)).scalar_one_or_none()


def get_payout(s: Session, payout_id: int) -> Payout:
    payout = s.get(Payout, payout_id)
    if payout is None:
        raise NotFound(f"no payout {payout_id}", code="payout_not_found")
    return payout


def transactions_for_order(s: Session, order_id: int) -> list[LedgerTransaction]:
    """The order's postings in the order they were made (entries load with them)."""
    return list(s.scalars(select(LedgerTransaction).where(
        LedgerTransaction.order_id == order_id).order_by(LedgerTransaction.id)))


def account_balance(s: Session, account: Account) -> int:
    """The account's balance on its normal side (what the platform owes is positive)."""
    return accounts.balance(s, account)


def _credits_where(condition):
    return paise_sum(case((condition & (Entry.amount_paise < 0), -Entry.amount_paise),
                          else_=0))


def _names(kinds) -> list[str]:
    return sorted(str(kind) for kind in kinds)
