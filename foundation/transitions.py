"""Long work (vision training runs, recommendation runs) as a row that moves pending ->
running -> succeeded | failed.  The review queues' transitions are foundation.casework.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from foundation import clock, db


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
