"""Idempotency keys: a retried request moves money once; a reused key is refused."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from foundation import db
from foundation.errors import Conflict, ValidationFailed
from marketplace_core.ledger import idempotency
from marketplace_core.ledger import services as ledger
from marketplace_core.ledger.models import IdempotencyKey, LedgerTransaction, Payout

BUYER, SELLER, PRICE = 101, 202, 100_000


def call(operation, *args):
    with db.unit_of_work() as s:
        result = operation(s, *args)
        return type(result), result.id


def snapshot() -> tuple:
    """Everything that moving money would change."""
    with db.unit_of_work() as s:
        return (s.execute(select(func.count(LedgerTransaction.id))).scalar_one(),
                s.execute(select(func.count(Payout.id))).scalar_one(),
                ledger.order_money(s, 1), ledger.seller_balance(s, SELLER),
                ledger.payout_in_flight(s, SELLER))


def captured() -> None:
    call(ledger.capture_payment, 1, BUYER, SELLER, PRICE, "capture-1", "pay_1")


def released() -> None:
    captured()
    call(ledger.release_to_seller, 1, 20_000, 0, "release-1")


def payout_started() -> int:
    released()
    return call(ledger.start_payout, SELLER, "payout-1")[1]


# Each case: how to get there, then the request and the same request with one parameter
# changed.  The lambdas take the payout id so that payout cases can name it.
CASES = {
    "capture": (lambda: None,
                lambda p: (ledger.capture_payment, 1, BUYER, SELLER, PRICE, "K", "pay_1"),
                lambda p: (ledger.capture_payment, 1, BUYER, SELLER, PRICE + 1, "K", "pay_1")),
    "release": (captured,
                lambda p: (ledger.release_to_seller, 1, 20_000, 0, "K"),
                lambda p: (ledger.release_to_seller, 1, 20_000, 500, "K")),
    "refund": (captured,
               lambda p: (ledger.refund_buyer, 1, 5_000, "K", "stain"),
               lambda p: (ledger.refund_buyer, 1, 5_000, "K", "another reason")),
    "split": (captured,
              lambda p: (ledger.split, 1, 40_000, 60_000, 12_000, "K"),
              lambda p: (ledger.split, 1, 40_000, 60_000, 12_001, "K")),
    "chargeback": (released,
                   lambda p: (ledger.recover_chargeback, 1, 7_000, "K"),
                   lambda p: (ledger.recover_chargeback, 1, 7_001, "K")),
    "start_payout": (released,
                     lambda p: (ledger.start_payout, SELLER, "K"),
                     lambda p: (ledger.start_payout, SELLER + 1, "K")),
    "complete_payout": (payout_started,
                        lambda p: (ledger.complete_payout, p, "K", "ref_1"),
                        lambda p: (ledger.complete_payout, p, "K", "ref_2")),
    "fail_payout": (payout_started,
                    lambda p: (ledger.fail_payout, p, "K", "bank closed"),
                    lambda p: (ledger.fail_payout, p, "K", "other reason")),
}


@pytest.mark.parametrize("case", CASES)
def test_the_same_request_twice_moves_money_once(app, case):
    prepare, request, _ = CASES[case]
    payout_id = prepare()
    first = call(*request(payout_id))
    after_first = snapshot()
    assert call(*request(payout_id)) == first
    assert snapshot() == after_first
    with db.unit_of_work() as s:
        assert ledger.check_invariants(s) == []


@pytest.mark.parametrize("case", CASES)
def test_the_same_key_with_other_parameters_is_refused(app, case):
    prepare, request, altered = CASES[case]
    payout_id = prepare()
    call(*request(payout_id))
    after_first = snapshot()
    with pytest.raises(Conflict) as refused:
        call(*altered(payout_id))
    assert refused.value.code == "idempotency_key_reused"
    assert snapshot() == after_first


def test_a_key_belongs_to_one_operation(app):
    captured()
    with pytest.raises(Conflict) as refused:
        call(ledger.release_to_seller, 1, 20_000, 0, "capture-1")
    assert refused.value.code == "idempotency_key_reused"


def test_a_retry_returns_the_first_result_even_after_the_order_moved_on(app):
    captured()
    first = call(ledger.refund_buyer, 1, 5_000, "refund-1", "stain")
    call(ledger.release_to_seller, 1, 19_000, 0, "release-1")
    # A fresh refund would now be refused (funds no longer held); the retry is not.
    assert call(ledger.refund_buyer, 1, 5_000, "refund-1", "stain") == first


def test_a_refused_request_does_not_use_up_its_key(app):
    captured()
    with pytest.raises(ValidationFailed):
        call(ledger.refund_buyer, 1, PRICE + 1, "refund-1", "too much")
    call(ledger.refund_buyer, 1, 1_000, "refund-1", "right amount")
    assert snapshot()[2]["refunded_paise"] == 1_000


def test_a_request_rolled_back_by_its_caller_does_not_use_up_its_key(app):
    captured()
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        ledger.refund_buyer(s, 1, 1_000, "refund-1", "stain")
        raise RuntimeError("the request failed after the refund")
    assert snapshot()[2]["refunded_paise"] == 0
    call(ledger.refund_buyer, 1, 2_000, "refund-1", "different amount, same key")
    assert snapshot()[2]["refunded_paise"] == 2_000


def test_losing_the_race_to_store_a_key_returns_the_winners_result(app, monkeypatch):
    """Two requests with one key pass the lookup together; the unique key refuses the
    second.  Its savepoint (and the money it moved) is rolled back and it answers with
    the first result, leaving the rest of its transaction intact."""
    captured()
    first = call(ledger.refund_buyer, 1, 5_000, "refund-1", "stain")
    before = snapshot()
    real_find = idempotency._find
    lookups = []

    def miss_the_first_lookup(s, key):
        lookups.append(key)
        return None if len(lookups) == 1 else real_find(s, key)

    monkeypatch.setattr(idempotency, "_find", miss_the_first_lookup)
    with db.unit_of_work() as s:
        again = ledger.refund_buyer(s, 1, 5_000, "refund-1", "stain")
        assert (type(again), again.id) == first
        assert ledger.order_money(s, 1)["refunded_paise"] == 5_000
    assert lookups == ["refund-1", "refund-1"]
    assert snapshot() == before


def test_keys_are_stored_with_a_hash_of_their_parameters(app):
    captured()
    with db.unit_of_work() as s:
        stored = s.execute(select(IdempotencyKey)).scalar_one()
        assert (stored.key, stored.operation) == ("capture-1", "capture_payment")
        assert stored.params_hash == idempotency.params_hash("capture_payment", {
            "order_id": 1, "buyer_id": BUYER, "seller_id": SELLER, "amount_paise": PRICE,
            "provider_ref": "pay_1"})
