"""The outbox's jobs: delivering one effect, the sweep that finds effects whose job was
lost, and the periodic reconciliation.

`deliver_effect` retries by re-arming itself with backoff (see dispatch), never through
RQ's own retry, so one effect never has two retry schedules.
"""
from __future__ import annotations

import logging

from foundation import db, jobs
from marketplace_core.orders import payouts
from marketplace_core.outbox import dispatch, reconcile, services

log = logging.getLogger(__name__)


@jobs.job(queue="default", retries=jobs.NO_RETRY)  # it re-arms itself with backoff
def deliver_effect(effect_id: int) -> str:
    return dispatch.deliver(db.session(), effect_id)


@jobs.job(queue="scheduled")
def sweep_outbox() -> int:
    """Dispatch again every pending effect whose try is due and whose job did not run (a
    lost enqueue, a killed worker, Redis restarted): a lost job costs a delay only.
    Payouts in flight that never had a bank effect get one first."""
    payouts.record_unrecorded_transfers(db.session())
    due = services.due_for_sweep(db.session())
    sent = sum(services.dispatch_now(effect_id, attempt, sweep=True)
               for effect_id, attempt in due)
    if due:
        log.info("outbox sweep: %d effects due, %d dispatched", len(due), sent)
    return sent


@jobs.job(queue="scheduled")
def run_reconciliation() -> bool:
    """Compare the ledger with the provider and the bank and keep the result for the
    console; True when nothing is missing or doubled."""
    run = reconcile.run_and_store(db.session())
    return run.clean
