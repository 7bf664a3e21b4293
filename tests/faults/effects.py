"""What reached the outside world, counted where the outside world keeps it: the payment
provider's and the bank's own stores, the outbox rows, `flask reconcile --json`, and the
photos' signatures.  Also waiting for the system to settle, acting as a supervisor would
(a worker that died of a Redis outage is started again)."""
from __future__ import annotations

import json
import subprocess
import time

from rq import Worker
from sqlalchemy import select

from foundation import db, jobs
from foundation.config import PROJECT_ROOT
from marketplace_core.orders import payments, payouts
from marketplace_core.outbox.models import OutboxEffect
from tests.deployment import flask_command
from tests.faults.harness import Cluster
from vision.models import PhotoSignature, SignatureState

DELIVER_EFFECT = "marketplace_core.outbox.tasks.deliver_effect"
SIGN_PHOTO = "vision.tasks.sign_stored_photo"


def running_job(task_name: str) -> str | None:
    """The id of a job of `task_name` some worker is running now, by the workers' own
    records in Redis."""
    for worker in Worker.all(connection=jobs.connection()):
        current = worker.get_current_job()
        if current is not None and current.description == task_name:
            return current.id
    return None


def wait_for(cluster: Cluster, condition, seconds: float, what: str, *, revive: bool = True):
    """Poll `condition` until truthy; a worker that exited meanwhile is started again
    (as its supervisor would), unless `revive` is off."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if revive:
            revive_exited(cluster)
        try:
            value = condition()
        except Exception:  # noqa: BLE001 - Redis may be restarting under the condition
            value = None
        if value:
            return value
        time.sleep(0.2)
    logs = "\n".join(f"--- {name}\n{cluster.log(name)[-2500:]}"
                     for name in cluster.worker_env)
    raise AssertionError(f"waited {seconds} s for {what}\n{logs}")


def revive_exited(cluster: Cluster) -> list[str]:
    revived = []
    for name in cluster.worker_names():
        if cluster.processes[name].poll() is not None:
            cluster.processes.pop(name)
            cluster.restart_worker(name)
            revived.append(name)
    return revived


def signed(photo_id: int) -> bool:
    with db.unit_of_work() as s:
        row = s.get(PhotoSignature, photo_id)
        return row is not None and row.state == SignatureState.INDEXED


# --- money: the outbox and the providers' own stores ---------------------------------------

def outbox_rows() -> list:
    with db.unit_of_work() as s:
        rows = list(s.scalars(select(OutboxEffect).order_by(OutboxEffect.id)))
        s.expunge_all()
        return rows


def undelivered() -> list:
    return [row for row in outbox_rows() if str(row.state) == "pending"]


def drained() -> bool:
    rows = outbox_rows()
    return bool(rows) and all(str(row.state) != "pending" for row in rows)


def provider_refunds() -> dict[str, int]:
    """reference -> amount, as the payment provider's own store has them."""
    received = payments.provider().received_refunds()
    references = [r["reference"] for r in received]
    assert len(references) == len(set(references)), "the provider lists a reference twice"
    return {r["reference"]: r["amount_paise"] for r in received}


def bank_transfers() -> dict[str, int]:
    received = payouts.bank().received_transfers()
    references = [r["reference"] for r in received]
    assert len(references) == len(set(references)), "the bank lists a reference twice"
    return {r["reference"]: r["amount_paise"] for r in received}


def refunded_per_order_at_provider() -> dict[int, int]:
    """order id -> what the provider moved back to the buyer's card, summed over every
    reference of that order (a refund under two references would be money sent twice)."""
    by_reference = {row.reference: row for row in outbox_rows()
                    if str(row.kind) == "card_refund"}
    totals: dict[int, int] = {}
    for reference, amount in provider_refunds().items():
        row = by_reference.get(reference)
        assert row is not None, f"the provider refunded {reference}, which we never asked"
        totals[row.order_id] = totals.get(row.order_id, 0) + amount
    return totals


def reconcile(cluster: Cluster) -> dict:
    """`flask reconcile --json`, as an operator runs it (exit status 0 only when nothing
    is missing or doubled)."""
    result = subprocess.run(flask_command("reconcile", "--json"), cwd=PROJECT_ROOT,
                            env=cluster.env, capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    report["exit_status"] = result.returncode
    return report
