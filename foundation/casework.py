"""Casework: the plumbing every staff review queue shares (authentication requests,
dispute cases), so that a fix to how a case moves, how its clock runs, who may open a
queue or what a refusal answers reaches every queue at once.

A queue declares itself once, as a `Casework` value in its package's machine module:

    CASEWORK = Casework(model=DisputeCase, events=CaseEvent, event_key="case_id",
                        closed_states=CLOSED_STATES, noun="case",
                        sla_hours=lambda: settings().DISPUTE_SLA_HOURS,
                        clock_runs_in=CLOCK_RUNNING_STATES, on_closed=announce_closed)

Its states and rules (which state allows what, who may act) stay in the package; this
module gives it:

- the guarded transition: one conditional UPDATE ... WHERE id = ? AND state = ? AND
  version = ? [AND more], so two actors racing on one case (two staff, staff and a
  timer, a member and a timer) cannot both win: the loser matches no row.  A win bumps
  `version` and writes the queue's event row;
- the active-time SLA clock: time counts only while staff owe the next step, so a pause
  (waiting for a member) stops it and a resume continues it;
- queue access: an unknown queue is 404 `queue_not_found`, a role that may not work it
  403 `wrong_role`;
- the 409s, one code per kind of failure: `illegal_transition` (the case's state does
  not allow the action), `case_changed` (someone else moved the case first) and
  `stale_lease` (the claim it was made under has lapsed or is someone else's; raised by
  foundation.leases).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from foundation import clock
from foundation.errors import Conflict, NotFound, PermissionDenied
from foundation.staff.models import StaffUser

# The actor of timers, sweeps and event handlers in event rows (staff are "staff:<id>",
# members "member:<id>").
SYSTEM = "system"

ILLEGAL_TRANSITION = "illegal_transition"
CASE_CHANGED = "case_changed"
STALE_LEASE = "stale_lease"

ACTOR_LENGTH = 40     # the event rows' column sizes
REASON_LENGTH = 60


# --- the 409s ---------------------------------------------------------------------------

def illegal(noun: str, state: str, action: str) -> Conflict:
    """The case's state does not allow the action."""
    return Conflict(f"The {noun} is {state.replace('_', ' ')}; it cannot be {action}.",
                    code=ILLEGAL_TRANSITION)


def changed_meanwhile(noun: str) -> Conflict:
    """Someone else moved the case between our read and our write."""
    return Conflict(f"The {noun} changed meanwhile; reload it and try again.",
                    code=CASE_CHANGED)


def stale_lease(noun: str) -> Conflict:
    """The claim the action was made under has lapsed or is someone else's."""
    return Conflict(f"Your claim on this {noun} has expired or is not yours; claim again.",
                    code=STALE_LEASE)


@dataclass(frozen=True)
class Guard:
    """What a transition must still meet when it writes, beyond the state and version
    the case was read in (extra WHERE conditions, e.g. the lease it is made under), and
    the 409 it answers when it loses (None: `case_changed`)."""

    conditions: tuple = ()
    lost: Callable[[Any], Conflict] | None = None


UNGUARDED = Guard()


# --- queue access -----------------------------------------------------------------------

def require_queue_access(staff: StaffUser, queue: str,
                         permissions: Mapping[str, str]) -> None:
    """`permissions` names each of a package's queues and the permission that works it."""
    if queue not in permissions:
        raise NotFound(f"No such queue; queues are {', '.join(permissions)}.",
                       code="queue_not_found")
    if not staff.can(permissions[queue]):
        raise PermissionDenied(f"Your role cannot work the {queue} queue.", code="wrong_role")


# --- one queue's casework ---------------------------------------------------------------

@dataclass(frozen=True)
class Casework:
    """One queue: its model (`id`, `state`, `version`, `updated_at`, `closed_at` and the
    SLA columns `sla_used_seconds`, `sla_running_since`, `sla_due_at`), its event model
    (`from_state`, `to_state`, `actor`, `reason`, `details`, `occurred_at` and the
    case's id under `event_key`), its closed states, the word for one case in messages,
    and its SLA budget in hours.

    With `clock_runs_in`, every transition keeps the SLA clock right by itself: started
    when the case first enters one of those states, paused when it leaves them, resumed
    when it comes back.  Without it, the queue's own steps pass `clock_paused` /
    `clock_resumed` values where their rules say so.  `on_closed` runs in the
    transaction of every transition into a closed state (to announce it)."""

    model: type
    events: type
    event_key: str
    closed_states: tuple[str, ...]
    noun: str
    sla_hours: Callable[[], float]
    clock_runs_in: tuple[str, ...] | None = None
    on_closed: Callable[[Session, Any], None] | None = None

    # --- transitions --------------------------------------------------------------------

    def try_transition(self, s: Session, row: Any, to: str, *, actor: str, reason: str,
                       conditions: tuple = (), values: dict[str, Any] | None = None,
                       details: dict[str, Any] | None = None) -> bool:
        """Move `row` from the state (and version) it was read in to `to`, meeting
        `conditions` too; False when someone else moved it first.  The row is up to date
        either way, so the caller sees what won."""
        changes = {**self._clock_changes(row, to, clock.now()), **(values or {})}
        before = self._guarded_update(s, row, to, conditions, changes)
        if before is None:
            return False
        self.log(s, row, before, actor, reason, details)
        if to in self.closed_states and self.on_closed is not None:
            self.on_closed(s, row)
        return True

    def transition(self, s: Session, row: Any, to: str, *, actor: str, reason: str,
                   guard: Guard = UNGUARDED, values: dict[str, Any] | None = None,
                   details: dict[str, Any] | None = None) -> None:
        """try_transition, or the guard's 409 (`case_changed` unless it says otherwise)
        when the move is lost."""
        if not self.try_transition(s, row, to, actor=actor, reason=reason,
                                   conditions=guard.conditions, values=values,
                                   details=details):
            raise guard.lost(row) if guard.lost else changed_meanwhile(self.noun)

    def log(self, s: Session, row: Any, before: str | None, actor: str, reason: str,
            details: dict[str, Any] | None = None) -> None:
        """An event row without a transition (opened, a message, a flag), or a
        transition's own."""
        s.add(self.events(**{self.event_key: row.id}, from_state=before, to_state=row.state,
                          actor=actor[:ACTOR_LENGTH], reason=reason[:REASON_LENGTH],
                          details=details or {}, occurred_at=clock.now()))
        s.flush()

    def illegal(self, row: Any, action: str) -> Conflict:
        return illegal(self.noun, row.state, action)

    def _guarded_update(self, s: Session, row: Any, to: str, conditions: tuple,
                        values: dict[str, Any]) -> str | None:
        """The state `row` left, or None when the UPDATE matched no row."""
        model = self.model
        now = clock.now()
        before = row.state
        changes: dict[str, Any] = {"state": to, "updated_at": now,
                                   "version": model.version + 1, **values}
        if to in self.closed_states:
            changes["closed_at"] = now
        # RETURNING hands the winner's row back in the same round trip; populate_existing
        # writes it into `row` itself.  A loser's UPDATE returns nothing, so it reads the row.
        won = s.execute(update(model).where(model.id == row.id, model.state == before,
                                            model.version == row.version, *conditions)
                        .values(**changes).returning(model)
                        .execution_options(synchronize_session=False, populate_existing=True)
                        ).scalar_one_or_none()
        if won is None:
            s.refresh(row)
            return None
        return before

    # --- the SLA clock (active time only) -----------------------------------------------

    def sla_budget(self) -> timedelta:
        return timedelta(hours=self.sla_hours())

    def clock_started(self, now: datetime) -> dict[str, Any]:
        return {"sla_used_seconds": 0, "sla_running_since": now,
                "sla_due_at": now + self.sla_budget()}

    def clock_paused(self, row: Any, now: datetime) -> dict[str, Any]:
        return {"sla_used_seconds": used_seconds(row, now), "sla_running_since": None}

    def clock_resumed(self, row: Any, now: datetime) -> dict[str, Any]:
        remaining = self.sla_budget() - timedelta(seconds=row.sla_used_seconds)
        return {"sla_running_since": now, "sla_due_at": now + remaining}

    def seconds_left(self, row: Any, now: datetime) -> int | None:
        """Active time left before the SLA is breached (negative once it is); None
        before the clock starts or once the case is closed."""
        if row.state in self.closed_states or row.sla_due_at is None:
            return None
        return int(self.sla_budget().total_seconds()) - used_seconds(row, now)

    def _clock_changes(self, row: Any, to: str, now: datetime) -> dict[str, Any]:
        if self.clock_runs_in is None:
            return {}
        running_before = row.state in self.clock_runs_in
        running_after = to in self.clock_runs_in
        if running_after and not running_before:
            if row.sla_due_at is None:
                return self.clock_started(now)
            return self.clock_resumed(row, now)
        if running_before and not running_after:
            return self.clock_paused(row, now)
        return {}


def used_seconds(row: Any, now: datetime) -> int:
    """Active time the case has used: what was banked at the last pause, plus the time
    since the clock last started running."""
    running = 0
    if row.sla_running_since is not None:
        running = int((now - row.sla_running_since).total_seconds())
    return row.sla_used_seconds + max(running, 0)
