"""Writing balanced transactions: the only place that creates entries."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from marketplace_core.ledger.models import (
    CURRENCY,
    Account,
    Entry,
    LedgerTransaction,
    TransactionKind,
)


class UnbalancedTransaction(ValueError):
    """A programming error in the ledger itself, never a user mistake."""


@dataclass(frozen=True)
class Leg:
    account: Account
    amount_paise: int  # positive debits, negative credits


def debit(account: Account, amount_paise: int) -> Leg:
    return Leg(account, amount_paise)


def credit(account: Account, amount_paise: int) -> Leg:
    return Leg(account, -amount_paise)


def post(s: Session, kind: TransactionKind, legs: list[Leg], *, order_id: int | None = None,
         member_id: int | None = None, memo: str | None = None) -> LedgerTransaction:
    # A fee of zero is no movement at all; writing it would only add noise.
    moving = [leg for leg in legs if leg.amount_paise != 0]
    _check_balanced(moving)
    transaction = LedgerTransaction(kind=str(kind), order_id=order_id, member_id=member_id,
                                    memo=memo)
    transaction.entries = [Entry(account=leg.account, amount_paise=leg.amount_paise)
                           for leg in moving]
    s.add(transaction)
    s.flush()
    return transaction


def _check_balanced(legs: list[Leg]) -> None:
    if len(legs) < 2:
        raise UnbalancedTransaction("a transaction needs at least two entries")
    if any(type(leg.amount_paise) is not int for leg in legs):
        raise UnbalancedTransaction("amounts are whole paise")
    if sum(leg.amount_paise for leg in legs) != 0:
        raise UnbalancedTransaction("entries must sum to zero")
    if any(leg.account.currency != CURRENCY for leg in legs):
        raise UnbalancedTransaction(f"only {CURRENCY} is supported")
