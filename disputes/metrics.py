"""How not-as-described cases are going, for support leads and fraud analysts.

Every figure covers a `DateRange` of whole UTC days and is computed in SQL that runs on
SQLite and PostgreSQL alike (GROUP BY, conditional sums, ORDER BY ... OFFSET for the
percentiles); Python only reshapes the handful of aggregated rows.  The functions return
plain dicts, so the console page and any API show the same numbers.

- volume: cases opened per reason;
- outcomes: cases closed per closing state, decisions per outcome and reason code;
- resolution: opening to closing, median and 90th percentile (nearest rank);
- SLA: of the closed cases whose decision clock ran, the share decided within
  DISPUTE_SLA_HOURS of active time;
- refunds: paise paid back to buyers through the ledger, per day;
- throughput: decisions per agent per day;
- case rates: per order delivered in the range, overall, per seller (cases lost per
  order sold: the not-as-described rate, a trust signal) and per buyer (cases opened
  per order bought: serial claimers).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from disputes.models import CLOSED_STATES, CaseDecision, CaseReason, DisputeCase, Outcome
from disputes.workspace import BUYER_WON_STATES, OPEN_STATES, staff_names
from foundation import clock
from foundation.config import current as settings
from foundation.errors import ValidationFailed
from marketplace_core.ledger.models import (
    Account,
    AccountKind,
    Entry,
    LedgerTransaction,
    TransactionKind,
)
from marketplace_core.members.models import Member
from marketplace_core.orders.models import Order

C = DisputeCase
D = CaseDecision
MAX_RANGE_DAYS = 366
TOP_LIMIT = 10
REFUND_KINDS = (TransactionKind.REFUND, TransactionKind.SPLIT)


@dataclass(frozen=True)
class DateRange:
    """Whole UTC days, both ends included: [first 00:00, last + 1 day 00:00)."""
    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValidationFailed("The range ends before it starts.", code="bad_range",
                                   fields={"to": "on or after from"})
        if self.day_count > MAX_RANGE_DAYS:
            raise ValidationFailed(f"The range can cover at most {MAX_RANGE_DAYS} days.",
                                   code="bad_range", fields={"from": "closer to to"})

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), tzinfo=UTC)

    @property
    def day_count(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def days(self) -> list[str]:
        return [(self.first + timedelta(days=i)).isoformat() for i in range(self.day_count)]

    def covers(self, column):
        return and_(column >= self.start, column < self.end)

    def as_dict(self) -> dict:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(),
                "days": self.day_count}


def last_days(days: int, today: date | None = None) -> DateRange:
    today = today or clock.now().date()
    return DateRange(today - timedelta(days=days - 1), today)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _utc_day(s: Session, column):
    """The UTC calendar day of a timestamp column, on either backend."""
    # SQLite keeps naive UTC text; PostgreSQL would use the session's zone unless told.
    if s.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _seconds_between(s: Session, start, end):
    if s.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


# --- volume and outcomes --------------------------------------------------------------------

def volume_by_reason(s: Session, dates: DateRange) -> dict:
    """Cases opened in the range, per reason (every covered reason listed)."""
    counts = dict(s.execute(select(C.reason, func.count()).where(dates.covers(C.opened_at))
                            .group_by(C.reason)).all())
    by_reason = {str(reason): int(counts.get(reason, 0)) for reason in CaseReason}
    return {"total": sum(by_reason.values()), "by_reason": by_reason}


def outcomes(s: Session, dates: DateRange) -> dict:
    """Cases closed in the range per closing state, and decisions made in the range per
    outcome and reason code."""
    closed = dict(s.execute(select(C.state, func.count()).where(
        C.state.in_(CLOSED_STATES), dates.covers(C.closed_at)).group_by(C.state)).all())
    rows = s.execute(select(D.outcome, D.reason_code, func.count())
                     .where(dates.covers(D.created_at))
                     .group_by(D.outcome, D.reason_code)).all()
    by_outcome = {str(outcome): 0 for outcome in Outcome}
    by_reason: dict[str, dict[str, int]] = {}
    for outcome, reason, n in rows:
        by_outcome[outcome] = by_outcome.get(outcome, 0) + int(n)
        by_reason.setdefault(outcome, {})[reason] = int(n)
    by_state = {str(state): int(closed.get(state, 0)) for state in CLOSED_STATES}
    return {"closed": sum(by_state.values()), "by_state": by_state,
            "decisions": sum(by_outcome.values()), "decisions_by_outcome": by_outcome,
            "decisions_by_reason": by_reason}


def open_now(s: Session) -> dict[str, int]:
    counts = dict(s.execute(select(C.state, func.count()).where(C.state.in_(OPEN_STATES))
                            .group_by(C.state)).all())
    return {str(state): int(counts.get(state, 0)) for state in OPEN_STATES}


# --- time to resolution and the SLA ---------------------------------------------------------

def resolution_time(s: Session, dates: DateRange) -> dict:
    """Opening to closing of the cases closed in the range: median and p90, in seconds."""
    seconds = _seconds_between(s, C.opened_at, C.closed_at)
    where = (C.state.in_(CLOSED_STATES), dates.covers(C.closed_at))
    n = int(s.scalar(select(func.count()).select_from(C).where(*where)) or 0)
    return {"closed": n, "median_seconds": _median(s, seconds, where, n),
            "p90_seconds": _nearest_rank(s, seconds, where, n, 0.9)}


def _nth_smallest(s: Session, value, where, offset: int, count: int = 1) -> list[float]:
    return [float(v) for v in s.scalars(select(value).select_from(C).where(*where)
                                        .order_by(value).offset(offset).limit(count))]


def _median(s: Session, value, where, n: int) -> int | None:
    if n == 0:
        return None
    middle = _nth_smallest(s, value, where, (n - 1) // 2, 1 if n % 2 else 2)
    return round(sum(middle) / len(middle))


def _nearest_rank(s: Session, value, where, n: int, share: float) -> int | None:
    """The smallest value with at least `share` of the values at or below it."""
    if n == 0:
        return None
    rank = max(1, math.ceil(round(share * n, 9)))
    return round(_nth_smallest(s, value, where, rank - 1)[0])


def sla_met(s: Session, dates: DateRange) -> dict:
    """Of the cases closed in the range whose decision clock ran, how many were decided
    within DISPUTE_SLA_HOURS of active time (the clock stops at the decision and at
    closing, so the used seconds are final)."""
    budget = settings().DISPUTE_SLA_HOURS * 3600
    closed, met = s.execute(select(func.count(), func.sum(
        case((C.sla_used_seconds <= budget, 1), else_=0))).where(
        C.state.in_(CLOSED_STATES), C.sla_due_at.is_not(None),
        dates.covers(C.closed_at))).one()
    closed, met = int(closed or 0), int(met or 0)
    return {"sla_hours": settings().DISPUTE_SLA_HOURS, "closed": closed, "met": met,
            "missed": closed - met, "share": _share(met, closed)}


# --- money and work per day -----------------------------------------------------------------

def refunds_per_day(s: Session, dates: DateRange) -> dict:
    """Paise refunded to buyers of disputed orders through the ledger, per UTC day.

    A refund leaves the platform's cash account back to the buyer's payment method, so
    the figure is the credit to platform cash of refund and split transactions (the same
    rule as the ledger's per-order figures)."""
    day = _utc_day(s, LedgerTransaction.created_at)
    paid = func.sum(case((Entry.amount_paise < 0, -Entry.amount_paise), else_=0))
    rows = s.execute(
        select(day, paid, func.count(func.distinct(LedgerTransaction.id)))
        .join(Entry, Entry.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == Entry.account_id)
        .where(LedgerTransaction.kind.in_([str(k) for k in REFUND_KINDS]),
               Account.kind == AccountKind.PLATFORM_CASH,
               LedgerTransaction.order_id.in_(select(C.order_id)),
               dates.covers(LedgerTransaction.created_at))
        .group_by(day)).all()
    labels = dates.days
    paise, counts = [0] * len(labels), [0] * len(labels)
    for on, amount, n in rows:
        i = labels.index(str(on)[:10])
        paise[i], counts[i] = int(amount or 0), int(n)
    return {"days": labels, "paise": paise, "refunds": counts, "total_paise": sum(paise),
            "total_refunds": sum(counts)}


def decisions_per_agent_per_day(s: Session, dates: DateRange) -> dict:
    day = _utc_day(s, D.created_at)
    rows = s.execute(select(D.staff_id, day, func.count()).where(dates.covers(D.created_at))
                     .group_by(D.staff_id, day)).all()
    labels = dates.days
    per_agent: dict[int, list[int]] = {}
    for staff_id, on, n in rows:
        per_agent.setdefault(staff_id, [0] * len(labels))[labels.index(str(on)[:10])] = int(n)
    names = staff_names(s, set(per_agent))
    return {"days": labels, "agents": [
        {"staff_id": sid, "name": names.get(sid, f"#{sid}"), "counts": counts,
         "total": sum(counts), "per_day": round(sum(counts) / len(labels), 2)}
        for sid, counts in sorted(per_agent.items())]}


# --- case rates (trust signals) -------------------------------------------------------------

def case_rates(s: Session, dates: DateRange, limit: int = TOP_LIMIT) -> dict:
    """Per order delivered in the range: cases opened on it and cases the buyer won.
    Overall, and the sellers who lost most per order sold and the buyers who opened most
    per order bought (only those with at least one such case)."""
    opened = func.count(C.id)
    won = func.sum(case((C.state.in_(BUYER_WON_STATES), 1), else_=0))
    orders = func.count(Order.id)
    cohort = (select().select_from(Order).outerjoin(C, C.order_id == Order.id)
              .where(dates.covers(Order.delivered_at)))
    total_orders, total_cases, total_won = s.execute(
        cohort.add_columns(orders, opened, won)).one()
    total_orders, total_cases, total_won = (int(total_orders or 0), int(total_cases or 0),
                                            int(total_won or 0))
    sellers = s.execute(cohort.add_columns(Order.seller_id, orders, opened, won)
                        .group_by(Order.seller_id).having(won > 0)
                        .order_by((won * 1.0 / orders).desc(), won.desc(), Order.seller_id)
                        .limit(limit)).all()
    buyers = s.execute(cohort.add_columns(Order.buyer_id, orders, opened, won)
                       .group_by(Order.buyer_id).having(opened > 0)
                       .order_by((opened * 1.0 / orders).desc(), opened.desc(),
                                 Order.buyer_id)
                       .limit(limit)).all()
    names = _usernames(s, {row[0] for row in sellers} | {row[0] for row in buyers})
    return {
        "orders": total_orders, "cases": total_cases, "won_by_buyers": total_won,
        "cases_per_order": _share(total_cases, total_orders),
        "sellers": [{"member_id": mid, "username": names.get(mid, f"#{mid}"),
                     "orders_sold": int(n), "cases": int(c), "lost": int(w or 0),
                     "lost_per_order": _share(int(w or 0), int(n))}
                    for mid, n, c, w in sellers],
        "buyers": [{"member_id": mid, "username": names.get(mid, f"#{mid}"),
                    "orders_bought": int(n), "cases": int(c), "won": int(w or 0),
                    "cases_per_order": _share(int(c), int(n))}
                   for mid, n, c, w in buyers],
    }


def _usernames(s: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(s.execute(select(Member.id, Member.username)
                          .where(Member.id.in_(sorted(ids)))).all())


# --- everything, for the page ---------------------------------------------------------------

def summary(s: Session, dates: DateRange) -> dict:
    return {
        "generated_at": clock.now().isoformat(),
        "range": dates.as_dict(),
        "open_now": open_now(s),
        "volume": volume_by_reason(s, dates),
        "outcomes": outcomes(s, dates),
        "resolution": resolution_time(s, dates),
        "sla": sla_met(s, dates),
        "refunds": refunds_per_day(s, dates),
        "throughput": decisions_per_agent_per_day(s, dates),
        "case_rates": case_rates(s, dates),
    }

