"""The payment provider and the bank misbehave the ways real ones do, told so through the
workers' environment (PROVIDER_FAULTS): they time out before acting, answer 5xx, or act
and lose the answer.  Each refund and payout is still delivered exactly once: tries that
failed are retried with backoff under the same reference, and a provider that already
acted answers the retry with its first answer instead of moving money again."""
from __future__ import annotations

import pytest

from marketplace_core.orders import payments, payouts
from tests.faults import shop
from tests.faults.effects import (
    bank_transfers,
    drained,
    outbox_rows,
    provider_refunds,
    reconcile,
    wait_for,
)

FAILED_TRIES = 2


@pytest.mark.parametrize("fault", ["timeout", "error", "lost"])
def test_a_refund_and_a_payout_through_a_failing_provider_are_delivered_once(
        app, cluster, fault):
    cluster.start_worker("worker", PROVIDER_FAULTS=f"{fault}=1")
    cancelled = shop.sale()
    shop.cancel(cancelled)
    paid = shop.sale()
    shop.deliver(paid)
    shop.accept(paid)
    shop.set_bank_account(paid.seller_id)
    shop.run_payouts()
    refund, payout = sorted(outbox_rows(), key=lambda row: str(row.kind) != "card_refund")
    wait_for(cluster, lambda: min(row.attempts for row in outbox_rows()) >= FAILED_TRIES, 60,
             f"{FAILED_TRIES} failed tries of each effect", revive=False)
    assert {str(row.state) for row in outbox_rows()} == {"pending"}
    moved_before_the_fix = (len(provider_refunds()), len(bank_transfers()))
    assert moved_before_the_fix == ((1, 1) if fault == "lost" else (0, 0))

    cluster.stop_worker()   # the provider heals: the next worker sees no faults
    cluster.worker_env["worker"]["PROVIDER_FAULTS"] = ""
    cluster.restart_worker()
    wait_for(cluster, drained, 90, "both effects to be delivered once the provider heals")

    assert {str(row.state) for row in outbox_rows()} == {"delivered"}
    assert provider_refunds() == {refund.reference: shop.ledger_refunds()[cancelled.order_id]}
    assert bank_transfers() == {payout.reference: payout.payload["amount_paise"]}
    assert min(row.attempts for row in outbox_rows()) > FAILED_TRIES
    # Only a lost answer reached the door: a time-out or a 5xx came before the provider.
    at_the_door = sent(refund.reference, payout.reference)
    if fault == "lost":
        assert at_the_door > FAILED_TRIES
    else:
        assert at_the_door == 1
    report = reconcile(cluster)
    assert report["exit_status"] == 0, report
    for side in ("refunds", "payouts"):
        assert (report[side]["ledger"], report[side]["provider"]) == (1, 1), report
        assert report[side]["missing"] == report[side]["duplicated"] == [], report


def sent(refund_reference: str, payout_reference: str) -> int:
    """The fewer of the times the refund and the payout reached the provider's door."""
    return min(payments.provider().requests_sent("refund").get(refund_reference, 0),
               payouts.bank().requests_sent().get(payout_reference, 0))
