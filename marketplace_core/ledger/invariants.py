"""What must always hold in the ledger, checked over the whole database at once.

Each check is one grouped query, so that a test can run all of them after every step
of a long random sequence.  An empty list means the books are sound.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from marketplace_core.ledger.models import (
    CURRENCY,
    Account,
    AccountKind,
    Entry,
    Hold,
    HoldState,
    LedgerTransaction,
    Payout,
    PayoutState,
    TransactionKind,
    paise_sum,
)
from marketplace_core.ledger.queries import REFUND_KINDS, RELEASE_KINDS, RELEASED_TO


def check_invariants(s: Session) -> list[str]:
    s.flush()
    return (_unbalanced_transactions(s) + _foreign_currencies(s) + _order_problems(s)
            + _payout_problems(s))


def _unbalanced_transactions(s: Session) -> list[str]:
    rows = s.execute(
        select(LedgerTransaction.id, func.count(Entry.id),
               paise_sum(Entry.amount_paise))
        .outerjoin(Entry, Entry.transaction_id == LedgerTransaction.id)
        .group_by(LedgerTransaction.id)
        .having((func.count(Entry.id) < 2)
                | (paise_sum(Entry.amount_paise) != 0))).all()
    return [f"transaction {tid} has {count} entries summing to {total}, not >= 2 summing to 0"
            for tid, count, total in rows]


def _foreign_currencies(s: Session) -> list[str]:
    keys = s.execute(select(Account.key).where(Account.currency != CURRENCY)).scalars()
    return [f"account {key} is not in {CURRENCY}" for key in keys]


def _order_problems(s: Session) -> list[str]:
    captured = _per_order(s, {TransactionKind.CAPTURE}, {AccountKind.ORDER_HELD}, credits=True)
    released = _per_order(s, RELEASE_KINDS, RELEASED_TO, credits=True)
    refunded = _per_order(s, REFUND_KINDS, {AccountKind.PLATFORM_CASH}, credits=True)
    recovered = _per_order(s, {TransactionKind.CHARGEBACK_RECOVERY},
                           {AccountKind.SELLER_AVAILABLE}, credits=False)
    held = _held_per_order(s)
    with_hold = set(s.execute(select(Hold.order_id)).scalars())
    problems = [f"order {order} has a held-funds account but no hold record"
                for order in held if order not in with_hold]
    for order, state, amount in s.execute(select(Hold.order_id, Hold.state, Hold.amount_paise)):
        c, h = captured[order], held[order]
        r, f, cb = released[order], refunded[order], recovered[order]
        if c != amount:
            problems.append(f"order {order}: captured {c} but the hold says {amount}")
        if h < 0:
            problems.append(f"order {order}: held balance is negative ({h})")
        if r + f > c:
            problems.append(f"order {order}: released {r} + refunded {f} exceed captured {c}")
        if h + r + f != c:
            problems.append(f"order {order}: held {h} + released {r} + refunded {f} "
                            f"!= captured {c}")
        if (state == HoldState.HELD) != (h > 0):
            problems.append(f"order {order}: hold is {state} with {h} paise held")
        if cb > c - f:
            problems.append(f"order {order}: chargebacks {cb} exceed what was paid "
                            f"and not refunded ({c - f})")
    return problems


def _payout_problems(s: Session) -> list[str]:
    in_flight = dict(s.execute(
        select(Account.member_id, -paise_sum(Entry.amount_paise))
        .join(Entry, Entry.account_id == Account.id)
        .where(Account.kind == AccountKind.SELLER_PAYOUT_IN_FLIGHT)
        .group_by(Account.member_id)).all())
    pending = dict(s.execute(
        select(Payout.member_id, paise_sum(Payout.amount_paise))
        .where(Payout.state == PayoutState.PENDING)
        .group_by(Payout.member_id)).all())
    problems = [f"member {member}: {in_flight.get(member, 0)} paise in flight but pending "
                f"payouts total {pending.get(member, 0)}"
                for member in set(in_flight) | set(pending)
                if in_flight.get(member, 0) != pending.get(member, 0)]
    pending_now = Payout.state == PayoutState.PENDING
    settled = Payout.settle_transaction_id.is_not(None)
    unsettled = s.execute(select(Payout.id, Payout.state).where(
        or_(and_(pending_now, settled), and_(~pending_now, ~settled))))
    problems += [f"payout {pid} is {state} but its settlement does not say so"
                 for pid, state in unsettled]
    return problems


def _per_order(s: Session, transaction_kinds, account_kinds, *, credits: bool,
               ) -> defaultdict[int, int]:
    side = Entry.amount_paise < 0 if credits else Entry.amount_paise > 0
    rows = s.execute(
        select(LedgerTransaction.order_id, paise_sum(Entry.amount_paise))
        .join(Entry, Entry.transaction_id == LedgerTransaction.id)
        .join(Account, Entry.account_id == Account.id)
        .where(LedgerTransaction.order_id.is_not(None),
               LedgerTransaction.kind.in_(sorted(str(k) for k in transaction_kinds)),
               Account.kind.in_(sorted(str(k) for k in account_kinds)), side)
        .group_by(LedgerTransaction.order_id)).all()
    sign = -1 if credits else 1
    return defaultdict(int, {order: sign * total for order, total in rows})


def _held_per_order(s: Session) -> defaultdict[int, int]:
    # Held funds are credit-normal: the balance is credits minus debits.
    rows = s.execute(
        select(Account.order_id, -paise_sum(Entry.amount_paise))
        .join(Entry, Entry.account_id == Account.id)
        .where(Account.kind == AccountKind.ORDER_HELD)
        .group_by(Account.order_id)).all()
    return defaultdict(int, dict(rows))


def ledger_health(s: Session) -> dict:
    """What the console's ledger page shows: the invariant check's problems (none when the
    books are right), the newest transaction id and the sum of every entry (zero)."""
    return {"problems": check_invariants(s),
            "transactions": s.scalar(select(func.max(LedgerTransaction.id))) or 0,
            "entries_sum": s.scalar(select(paise_sum(Entry.amount_paise)))}
