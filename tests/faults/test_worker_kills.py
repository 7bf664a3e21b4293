"""A real `flask worker` killed with SIGKILL in the middle of a job, then started again:
the job's effect happens exactly once.

The provider is slowed (PROVIDER_DELAY_MS, read by the worker processes) so that a refund
or a payout is surely in flight when the kill comes; the photo job signs a burst of
uploads as one batch, long enough to be hit.  Two kinds of kill: the work horse alone (an
OOM kill of the job; the worker lives on and sees it die) and the whole worker with its
horse and scheduler (a lost container; a new worker is started)."""
from __future__ import annotations

import time

import pytest

from tests.faults import shop
from tests.faults.effects import (
    DELIVER_EFFECT,
    SIGN_PHOTO,
    bank_transfers,
    outbox_rows,
    provider_refunds,
    reconcile,
    running_job,
    signed,
    undelivered,
    wait_for,
)

SLOW_PROVIDER_MS = "4000"
PHOTOS = 12
# Well past a retry's backoff and the outbox's sweep period; the tests end as soon as the
# effect is seen.
RECOVERY_SECONDS = 120


def kill_mid_job(cluster, task_name: str, how: str, *, into_it: float = 1.0) -> None:
    """Wait until a worker runs a job of `task_name`, let it get `into_it` seconds into its
    work, and kill the horse or the whole worker; a killed worker is started again (its
    delay gone)."""
    wait_for(cluster, lambda: running_job(task_name), 90, f"a {task_name} job to start",
             revive=False)
    time.sleep(into_it)
    assert running_job(task_name), f"the {task_name} job ended before the kill"
    if how == "horse":
        assert cluster.kill_horse() is not None
    else:
        cluster.kill_worker()
        cluster.worker_env["worker"]["PROVIDER_DELAY_MS"] = "0"
        cluster.restart_worker()


def test_a_photo_job_whose_horse_is_killed_mid_batch_still_signs_every_photo(app, cluster):
    """The horse alone: its worker sees it die and RQ runs the job again, which takes its
    own claims back.  (A whole worker lost mid-batch is caught by RQ's cleanup of
    abandoned jobs and by the sweep of unsigned photos, minutes later: too slow for the
    suite, and not money.)"""
    seller = shop.member("seller")
    listing_id = shop.listing(seller, real_photo=True)
    photo_ids = [shop.add_photo(seller, listing_id) for _ in range(PHOTOS)]
    # Started after the uploads, so its first job is one batch of them all: a worker that
    # holds the model signs one photo faster than the kill comes.
    cluster.start_worker("worker", queues="photos,vision")
    kill_mid_job(cluster, SIGN_PHOTO, "horse", into_it=0.3)
    wait_for(cluster, lambda: all(signed(p) for p in photo_ids), RECOVERY_SECONDS,
             f"photos {photo_ids} to be signed after the kill")


@pytest.mark.parametrize("how", ["horse", "worker"])
def test_a_refund_killed_mid_call_reaches_the_provider_once(app, cluster, how):
    cluster.start_worker("worker", PROVIDER_DELAY_MS=SLOW_PROVIDER_MS)
    sale = shop.sale()
    shop.cancel(sale)
    kill_mid_job(cluster, DELIVER_EFFECT, how)
    wait_for(cluster, lambda: not undelivered(), RECOVERY_SECONDS,
             "the refund to be delivered after the kill")
    (effect,) = outbox_rows()
    assert (str(effect.kind), str(effect.state)) == ("card_refund", "delivered")
    assert provider_refunds() == {effect.reference: shop.ledger_refunds()[sale.order_id]}
    assert_reconciled(cluster, refunds=1, payouts=0)


@pytest.mark.parametrize("how", ["horse", "worker"])
def test_a_payout_killed_mid_transfer_reaches_the_bank_once(app, cluster, how):
    cluster.start_worker("worker", PROVIDER_DELAY_MS=SLOW_PROVIDER_MS)
    sale = shop.sale()
    shop.deliver(sale)
    shop.accept(sale)
    shop.set_bank_account(sale.seller_id)
    shop.run_payouts()
    kill_mid_job(cluster, DELIVER_EFFECT, how)
    wait_for(cluster, lambda: not undelivered(), RECOVERY_SECONDS,
             "the payout to be delivered after the kill")
    (effect,) = outbox_rows()
    assert (str(effect.kind), str(effect.state)) == ("bank_payout", "delivered")
    assert bank_transfers() == {effect.reference: effect.payload["amount_paise"]}
    assert effect.payload["amount_paise"] > 0
    assert_reconciled(cluster, refunds=0, payouts=1)


def assert_reconciled(cluster, *, refunds: int, payouts: int) -> None:
    report = reconcile(cluster)
    assert report["exit_status"] == 0, report
    assert (report["refunds"]["ledger"], report["refunds"]["provider"]) == (refunds, refunds)
    assert (report["payouts"]["ledger"], report["payouts"]["provider"]) == (payouts, payouts)
    for side in ("refunds", "payouts"):
        assert report[side]["missing"] == [] and report[side]["duplicated"] == [], report
