"""How the authentication queue and its reviewers are doing, for leads and fraud analysts.

Every function takes the session (and a `Window` where the figure covers a period) and
returns plain dicts of numbers, so the console page and the JSON API show the same
figures.  The counting happens in SQL (GROUP BY, conditional sums); Python only reshapes
the handful of aggregated rows.

Windows are half-open, [start, end): an event exactly at `end` belongs to the next one.

Reviewer accuracy is built from *outcome sources*: functions that say, per reviewer, how
many of their verdicts were checked by a later outcome and how many of those went
against them: `overturned_by_later_review` (a second review or a lead decision that
closed the request the other way) and `passed_then_disputed` (an item passed as authentic
that a buyer later called not authentic, judged again on the dispute).  More evidence
joins `OUTCOME_SOURCES` with the same signature.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from authentication.models import (
    QUEUE_STATES,
    AuthenticationRequest,
    Reason,
    RequestState,
    ReviewDecision,
    Stage,
    Verdict,
)
from foundation import clock
from foundation.config import current as settings
from foundation.staff.models import StaffUser

R = AuthenticationRequest
D = ReviewDecision
# States an open request can be in, in the order a request moves through them.
OPEN_STATES = (RequestState.QUEUED, RequestState.CLAIMED, RequestState.AWAITING_PHOTOS,
               RequestState.ESCALATED, RequestState.AWAITING_SECOND_REVIEW,
               RequestState.AWAITING_LEAD)
# Closings that ended a review (a cancelled request was withdrawn, not reviewed).
REVIEWED_STATES = (RequestState.CLOSED_AUTHENTIC, RequestState.CLOSED_COUNTERFEIT,
                   RequestState.CLOSED_REJECTED)
FINAL_VERDICTS = (Verdict.AUTHENTIC, Verdict.COUNTERFEIT)
CLOSED_BY_VERDICT = {Verdict.AUTHENTIC: RequestState.CLOSED_AUTHENTIC,
                     Verdict.COUNTERFEIT: RequestState.CLOSED_COUNTERFEIT}
DAILY_DAYS = 14
MAX_WINDOW_DAYS = 90


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    def covers(self, column):
        return and_(column >= self.start, column < self.end)

    def as_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def last_days(days: int, now: datetime | None = None) -> Window:
    end = now or clock.now()
    return Window(end - timedelta(days=days), end)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --- the queue now ----------------------------------------------------------------------

def queue_depth(s: Session) -> dict[str, int]:
    """How many open requests sit in each state right now (every open state listed)."""
    counts = dict(s.execute(select(R.state, func.count()).where(R.state.in_(OPEN_STATES))
                            .group_by(R.state)).all())
    return {str(state): int(counts.get(state, 0)) for state in OPEN_STATES}


def oldest_waiting(s: Session, now: datetime | None = None) -> dict:
    """The request that has waited longest in a queue (unclaimed), and for how long."""
    now = now or clock.now()
    row = s.execute(select(R.id, R.state, R.created_at).where(R.state.in_(QUEUE_STATES))
                    .order_by(R.created_at, R.id).limit(1)).first()
    if row is None:
        return {"request_id": None, "state": None, "created_at": None, "age_seconds": None}
    return {"request_id": row.id, "state": row.state, "created_at": row.created_at.isoformat(),
            "age_seconds": int((now - row.created_at).total_seconds())}


# --- service level ----------------------------------------------------------------------

def _met_sla():
    """Whether a closed request's active review time stayed within the SLA.

    The clock is not stopped at closing: a request closed while it ran met the SLA when
    it closed by its deadline; one closed while paused (awaiting photos) has its active
    time frozen in sla_used_seconds."""
    budget = settings().AUTHENTICATION_SLA_HOURS * 3600
    return case((R.sla_running_since.is_(None), R.sla_used_seconds <= budget),
                else_=R.closed_at <= R.sla_due_at)


def sla_met(s: Session, window: Window) -> dict:
    """Of the reviews closed in the window, how many closed within SLA hours of active time."""
    closed, met = s.execute(select(func.count(), func.sum(case((_met_sla(), 1), else_=0)))
                            .where(R.state.in_(REVIEWED_STATES), window.covers(R.closed_at))
                            ).one()
    closed, met = int(closed or 0), int(met or 0)
    return {"sla_hours": settings().AUTHENTICATION_SLA_HOURS, "closed": closed, "met": met,
            "missed": closed - met, "share": _share(met, closed)}


# --- reviewers' work ----------------------------------------------------------------------

def _utc_day(s: Session, column):
    """The UTC calendar day of a timestamp column, on either backend."""
    # SQLite keeps naive UTC text; PostgreSQL would use the session's zone unless told.
    if s.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _staff_names(s: Session, staff_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(staff_ids))
    if not ids:
        return {}
    return dict(s.execute(select(StaffUser.id, StaffUser.display_name)
                          .where(StaffUser.id.in_(ids))).all())


def daily_days(today: date, days: int = DAILY_DAYS) -> list[date]:
    return [today - timedelta(days=days - 1 - i) for i in range(days)]


def decisions_per_reviewer_per_day(s: Session, now: datetime | None = None,
                                   days: int = DAILY_DAYS) -> dict:
    """Decisions each reviewer recorded on each of the last `days` UTC days (today last)."""
    now = now or clock.now()
    day_list = daily_days(now.date(), days)
    window = Window(datetime.combine(day_list[0], time(), tzinfo=now.tzinfo), now)
    day = _utc_day(s, D.created_at)
    rows = s.execute(select(D.reviewer_id, day, func.count())
                     .where(window.covers(D.created_at))
                     .group_by(D.reviewer_id, day)).all()
    labels = [d.isoformat() for d in day_list]
    per_reviewer: dict[int, list[int]] = {}
    for reviewer_id, on, n in rows:
        counts = per_reviewer.setdefault(reviewer_id, [0] * days)
        counts[labels.index(str(on)[:10])] = int(n)
    names = _staff_names(s, per_reviewer)
    return {"days": labels, "reviewers": [
        {"reviewer_id": rid, "name": names.get(rid, f"#{rid}"), "counts": counts,
         "total": sum(counts)} for rid, counts in sorted(per_reviewer.items())]}


def verdict_mix(s: Session, window: Window) -> dict:
    """Decisions in the window by verdict, overall and per review stage."""
    rows = s.execute(select(D.stage, D.verdict, func.count()).where(window.covers(D.created_at))
                     .group_by(D.stage, D.verdict)).all()
    by_stage = {str(stage): {str(v): 0 for v in Verdict} for stage in Stage}
    for stage, verdict, n in rows:
        by_stage.setdefault(stage, {})[verdict] = int(n)
    by_verdict = {str(v): sum(counts.get(v, 0) for counts in by_stage.values())
                  for v in Verdict}
    return {"total": sum(by_verdict.values()), "by_verdict": by_verdict, "by_stage": by_stage}


def agreement(s: Session, window: Window) -> dict:
    """How often a second reviewer (in the window) agreed with the first verdict."""
    agreed = case((D.verdict == R.first_verdict, 1), else_=0)
    reviewed, agreeing = s.execute(
        select(func.count(), func.sum(agreed)).select_from(D).join(R, R.id == D.request_id)
        .where(D.stage == Stage.SECOND, window.covers(D.created_at))).one()
    reviewed, agreeing = int(reviewed or 0), int(agreeing or 0)
    return {"second_reviews": reviewed, "agreed": agreeing, "disagreed": reviewed - agreeing,
            "rate": _share(agreeing, reviewed)}


# --- accuracy against later outcomes -----------------------------------------------------

OutcomeSource = Callable[[Session, Window], dict[int, tuple[int, int]]]


def overturned_by_later_review(s: Session, window: Window) -> dict[int, tuple[int, int]]:
    """Per first reviewer: (first verdicts checked by a later review, overturned ones).

    A first authentic/counterfeit verdict is checked when a second review or a lead
    decided the same request, and the request closed (in the window) as authentic or
    counterfeit; it is overturned when the request closed the other way."""
    later = aliased(D)
    reviewed_again = exists().where(later.request_id == D.request_id,
                                    later.stage.in_((Stage.SECOND, Stage.LEAD)),
                                    later.id > D.id)
    upheld = case(*((and_(D.verdict == verdict, R.state == closed), 0)
                    for verdict, closed in CLOSED_BY_VERDICT.items()), else_=1)
    rows = s.execute(
        select(D.reviewer_id, func.count(), func.sum(upheld)).select_from(D)
        .join(R, R.id == D.request_id)
        .where(D.stage == Stage.FIRST, D.verdict.in_(FINAL_VERDICTS),
               R.state.in_(tuple(CLOSED_BY_VERDICT.values())), window.covers(R.closed_at),
               reviewed_again)
        .group_by(D.reviewer_id)).all()
    return {rid: (int(checked), int(against or 0)) for rid, checked, against in rows}


def passed_then_disputed(s: Session, window: Window) -> dict[int, tuple[int, int]]:
    """Per reviewer who passed an item as authentic: (items whose buyer later said "not
    authentic" and whose dispute review closed in the window, those found counterfeit).

    The dispute review is a later request on the same listing with reason "dispute";
    every reviewer whose authentic verdict let the item go live is checked by it."""
    dispute = aliased(R)
    found_fake = case((dispute.state == RequestState.CLOSED_COUNTERFEIT, 1), else_=0)
    rows = s.execute(
        select(D.reviewer_id, func.count(), func.sum(found_fake)).select_from(D)
        .join(R, R.id == D.request_id)
        .join(dispute, and_(dispute.listing_id == R.listing_id, dispute.id > R.id,
                            dispute.reason == Reason.DISPUTE))
        .where(D.verdict == Verdict.AUTHENTIC, R.state == RequestState.CLOSED_AUTHENTIC,
               R.reason != Reason.DISPUTE,
               dispute.state.in_((RequestState.CLOSED_AUTHENTIC, RequestState.CLOSED_COUNTERFEIT)),
               window.covers(dispute.closed_at))
        .group_by(D.reviewer_id)).all()
    return {rid: (int(checked), int(against or 0)) for rid, checked, against in rows}


# Each source maps reviewer id -> (checked, against); reviewer_accuracy adds them up.
OUTCOME_SOURCES: tuple[OutcomeSource, ...] = (overturned_by_later_review,
                                              passed_then_disputed)


def reviewer_accuracy(s: Session, window: Window,
                      sources: Iterable[OutcomeSource] = OUTCOME_SOURCES) -> dict:
    """Per reviewer, the share of their checked first verdicts that later outcomes upheld."""
    totals: dict[int, list[int]] = {}
    for source in sources:
        for reviewer_id, (checked, against) in source(s, window).items():
            total = totals.setdefault(reviewer_id, [0, 0])
            total[0] += checked
            total[1] += against
    names = _staff_names(s, totals)
    reviewers = [{"reviewer_id": rid, "name": names.get(rid, f"#{rid}"), "checked": checked,
                  "against": against, "accuracy": _share(checked - against, checked)}
                 for rid, (checked, against) in sorted(totals.items())]
    checked = sum(r["checked"] for r in reviewers)
    against = sum(r["against"] for r in reviewers)
    return {"checked": checked, "against": against,
            "accuracy": _share(checked - against, checked), "reviewers": reviewers}


# --- everything, for the page and the API ----------------------------------------------

def summary(s: Session, window_days: int, now: datetime | None = None) -> dict:
    """All the figures: the queue now, and the rest over the last `window_days` days."""
    now = now or clock.now()
    window = last_days(window_days, now)
    return {
        "generated_at": now.isoformat(),
        "window": {**window.as_dict(), "days": window_days},
        "queue_depth": queue_depth(s),
        "oldest_waiting": oldest_waiting(s, now),
        "sla": sla_met(s, window),
        "decisions_per_day": decisions_per_reviewer_per_day(s, now),
        "verdict_mix": verdict_mix(s, window),
        "agreement": agreement(s, window),
        "accuracy": reviewer_accuracy(s, window),
    }

