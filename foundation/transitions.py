"""The guarded transition shared by every review workflow (authentication requests,
dispute cases): one conditional UPDATE ... WHERE id = ? AND state = ? AND version = ?
[AND more], so two actors racing on the same row cannot both win: the loser matches no
row.  A win bumps `version`; the caller writes its own event row.

And the active-time SLA clock those workflows share: time counts only while staff owe
the next step, so a pause (waiting for a member) stops it and a resume continues it.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from foundation import clock, db


def try_move(s: Session, row: Any, to: str, *, closed_states: tuple[str, ...],
             conditions: tuple = (), values: dict[str, Any] | None = None) -> str | None:
    """Move `row` from the state (and version) it was read in to `to`.

    Returns the state it left, or None when someone else moved it first.  The row is
    up to date either way, so the caller sees what won.
    """
    model = type(row)
    now = clock.now()
    before = row.state
    changes: dict[str, Any] = {"state": to, "updated_at": now, "version": model.version + 1,
                               **(values or {})}
    if to in closed_states:
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


# --- the SLA clock (active time only) ------------------------------------------------
# A row carries sla_used_seconds, sla_running_since and sla_due_at.

def clock_started(budget: timedelta, now: datetime) -> dict[str, Any]:
    return {"sla_used_seconds": 0, "sla_running_since": now, "sla_due_at": now + budget}


def clock_paused(row: Any, now: datetime) -> dict[str, Any]:
    return {"sla_used_seconds": used_seconds(row, now), "sla_running_since": None}


def clock_resumed(row: Any, budget: timedelta, now: datetime) -> dict[str, Any]:
    remaining = budget - timedelta(seconds=row.sla_used_seconds)
    return {"sla_running_since": now, "sla_due_at": now + remaining}


def used_seconds(row: Any, now: datetime) -> int:
    running = 0
    if row.sla_running_since is not None:
        running = int((now - row.sla_running_since).total_seconds())
    return row.sla_used_seconds + max(running, 0)


def seconds_left(row: Any, budget: timedelta, now: datetime) -> int:
    """Active time left before the SLA is breached (negative once it is)."""
    return int(budget.total_seconds()) - used_seconds(row, now)


def claim_pending_run(s: Session, model: type, run_id: int) -> Any | None:
    """Move a long-work row (training, precompute: `state`, `started_at`, `message`) from
    pending to running, committed at once on a side session so that the console shows it
    running while the work goes on; None when it was not pending (RQ may deliver a job
    twice: the second delivery finds it taken and does nothing)."""
    with db.SessionFactory() as side:
        moved = side.execute(update(model).where(
            model.id == run_id, model.state == "pending").values(
            state="running", started_at=clock.now(), message="starting"))
        side.commit()
    if moved.rowcount != 1:
        return None
    run = s.get(model, run_id)
    s.refresh(run)
    return run
