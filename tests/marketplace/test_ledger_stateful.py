"""Random sequences of captures, releases, refunds, splits, chargebacks, payouts and
retries, with the books checked after every step (Hypothesis stateful testing).

The database is created once per test (the `app` fixture), not once per example, so
every example works on fresh order and member ids and compares its own model only
with its own orders; the invariant check covers every row, earlier examples' too.
"""
from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from foundation import db
from foundation.errors import Conflict, ValidationFailed
from marketplace_core.ledger import services as ledger
from marketplace_core.ledger.models import HoldState

_ids = itertools.count(1)
AMOUNTS = st.integers(min_value=1, max_value=500_000)
PICK = st.integers(min_value=0, max_value=10**6)
PERCENT = st.integers(min_value=0, max_value=110)  # above 100: asks for too much
# Mostly aim a request at something it can succeed on; sometimes at anything at all.
FITTING = st.sampled_from([True, True, True, False])
OPEN = {HoldState.HELD}
PAID_OUT = {HoldState.RELEASED, HoldState.SPLIT}


@dataclass
class ExpectedOrder:
    seller: int
    captured: int
    held: int
    released: int = 0
    refunded: int = 0
    recovered: int = 0
    state: HoldState = HoldState.HELD

    def money(self) -> dict[str, int]:
        return {"captured_paise": self.captured, "held_paise": self.held,
                "released_paise": self.released, "refunded_paise": self.refunded}


@dataclass
class Done:
    """A request that succeeded, kept so that it can be retried."""
    operation: object
    args: tuple
    result_id: int
    changeable: int  # position of a parameter that a reuse of the key alters


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.sellers = [next(_ids) + 1_000_000 for _ in range(2)]
        self.buyer = next(_ids) + 2_000_000
        self.orders: dict[int, ExpectedOrder] = {}
        self.available = dict.fromkeys(self.sellers, 0)
        self.pending: dict[int, tuple[int, int]] = {}  # payout id -> (seller, amount)
        self.settled: list[int] = []
        self.done: list[Done] = []

    # ------------------------------------------------------------ helpers

    def run(self, operation, *args):
        with db.unit_of_work() as s:
            result = operation(s, *args)
            return result.id

    def succeed(self, operation, *args, changeable: int) -> int:
        result_id = self.run(operation, *args)
        event(f"{operation.__name__} moved money")
        self.done.append(Done(operation, args, result_id, changeable))
        return result_id

    def refused(self, error: type, operation, *args) -> None:
        before = self.books()
        with pytest.raises(error):
            self.run(operation, *args)
        event(f"{operation.__name__} refused with {error.__name__}")
        assert self.books() == before

    def books(self) -> tuple:
        with db.unit_of_work() as s:
            orders = ledger.orders_money(s, self.orders)
            sellers = {seller: (ledger.seller_balance(s, seller),
                                ledger.payout_in_flight(s, seller))
                       for seller in self.sellers}
            return orders, sellers

    def pick_order(self, pick: int, fitting: bool, states: set[HoldState]) -> int:
        candidates = [order for order, expected in sorted(self.orders.items())
                      if fitting and expected.state in states] or sorted(self.orders)
        return candidates[pick % len(candidates)]

    # ------------------------------------------------------------ order money

    @rule(amount=AMOUNTS, seller=PICK)
    def capture(self, amount, seller):
        order, seller = next(_ids), self.sellers[seller % len(self.sellers)]
        self.succeed(ledger.capture_payment, order, self.buyer, seller, amount,
                     uuid.uuid4().hex, f"pay_{order}", changeable=3)
        self.orders[order] = ExpectedOrder(seller=seller, captured=amount, held=amount)

    @precondition(lambda self: self.orders)
    @rule(pick=PICK, fitting=FITTING, percent=PERCENT, label_fee=st.integers(0, 5_000))
    def release(self, pick, fitting, percent, label_fee):
        order = self.pick_order(pick, fitting, OPEN)
        expected = self.orders[order]
        commission = expected.held * percent // 100
        args = (order, commission, label_fee, uuid.uuid4().hex)
        if expected.state != HoldState.HELD:
            return self.refused(Conflict, ledger.release_to_seller, *args)
        if commission + label_fee > expected.held:
            return self.refused(ValidationFailed, ledger.release_to_seller, *args)
        self.succeed(ledger.release_to_seller, *args, changeable=1)
        self.available[expected.seller] += expected.held - commission - label_fee
        expected.released += expected.held
        expected.held = 0
        expected.state = HoldState.RELEASED

    @precondition(lambda self: self.orders)
    @rule(pick=PICK, fitting=FITTING, amount=AMOUNTS)
    def refund(self, pick, fitting, amount):
        order = self.pick_order(pick, fitting, OPEN)
        expected = self.orders[order]
        # Half the time refund exactly what is held, so full refunds happen often.
        if amount % 2 and expected.held:
            amount = expected.held
        args = (order, amount, uuid.uuid4().hex, "not as described")
        if expected.state != HoldState.HELD:
            return self.refused(Conflict, ledger.refund_buyer, *args)
        if amount > expected.held:
            return self.refused(ValidationFailed, ledger.refund_buyer, *args)
        self.succeed(ledger.refund_buyer, *args, changeable=1)
        expected.held -= amount
        expected.refunded += amount
        if expected.held == 0:
            expected.state = HoldState.REFUNDED

    @precondition(lambda self: self.orders)
    @rule(pick=PICK, fitting=FITTING, refund=AMOUNTS,
          off_by=st.sampled_from([0, 0, 0, 0, 1, -1]), percent=PERCENT)
    def split(self, pick, fitting, refund, off_by, percent):
        order = self.pick_order(pick, fitting, OPEN)
        expected = self.orders[order]
        refund = 1 + refund % max(expected.held - 1, 1)
        release = expected.held - refund + off_by
        commission = max(release, 0) * percent // 100
        args = (order, refund, release, commission, uuid.uuid4().hex)
        if release <= 0:
            return self.refused(ValidationFailed, ledger.split, *args)
        if expected.state != HoldState.HELD:
            return self.refused(Conflict, ledger.split, *args)
        if off_by or commission > release:
            return self.refused(ValidationFailed, ledger.split, *args)
        self.succeed(ledger.split, *args, changeable=3)
        self.available[expected.seller] += release - commission
        expected.released += release
        expected.refunded += refund
        expected.held = 0
        expected.state = HoldState.SPLIT

    @precondition(lambda self: any(e.state in PAID_OUT for e in self.orders.values()))
    @rule(pick=PICK, fitting=FITTING, percent=PERCENT)
    def chargeback(self, pick, fitting, percent):
        order = self.pick_order(pick, fitting, PAID_OUT)
        expected = self.orders[order]
        amount = max(1, (expected.captured - expected.refunded) * percent // 100)
        args = (order, amount, uuid.uuid4().hex)
        if expected.state not in (HoldState.RELEASED, HoldState.SPLIT):
            return self.refused(Conflict, ledger.recover_chargeback, *args)
        if amount > expected.captured - expected.refunded - expected.recovered:
            return self.refused(ValidationFailed, ledger.recover_chargeback, *args)
        self.succeed(ledger.recover_chargeback, *args, changeable=1)
        expected.recovered += amount
        self.available[expected.seller] -= amount

    # ------------------------------------------------------------ payouts

    @precondition(lambda self: any(amount > 0 for amount in self.available.values()))
    @rule(pick=PICK, fitting=FITTING)
    def start_payout(self, pick, fitting):
        candidates = [seller for seller in self.sellers
                      if fitting and self.available[seller] > 0] or self.sellers
        seller = candidates[pick % len(candidates)]
        args = (seller, uuid.uuid4().hex)
        amount = self.available[seller]
        if amount <= 0:
            return self.refused(Conflict, ledger.start_payout, *args)
        payout_id = self.succeed(ledger.start_payout, *args, changeable=0)
        self.pending[payout_id] = (seller, amount)
        self.available[seller] = 0

    @precondition(lambda self: self.pending)
    @rule(pick=PICK, paid=st.booleans())
    def settle_payout(self, pick, paid):
        payout_id = sorted(self.pending)[pick % len(self.pending)]
        seller, amount = self.pending.pop(payout_id)
        if paid:
            self.succeed(ledger.complete_payout, payout_id, uuid.uuid4().hex, "ref",
                         changeable=2)
        else:
            self.succeed(ledger.fail_payout, payout_id, uuid.uuid4().hex, "bank said no",
                         changeable=2)
            self.available[seller] += amount
        self.settled.append(payout_id)

    @precondition(lambda self: self.settled)
    @rule(pick=PICK, paid=st.booleans())
    def settle_again(self, pick, paid):
        payout_id = self.settled[pick % len(self.settled)]
        if paid:
            self.refused(Conflict, ledger.complete_payout, payout_id, uuid.uuid4().hex, "ref")
        else:
            self.refused(Conflict, ledger.fail_payout, payout_id, uuid.uuid4().hex, "no")

    # ------------------------------------------------------------ retries

    @precondition(lambda self: self.done)
    @rule(pick=PICK)
    def retry(self, pick):
        done = self.done[pick % len(self.done)]
        before = self.books()
        assert self.run(done.operation, *done.args) == done.result_id
        assert self.books() == before

    @precondition(lambda self: self.done)
    @rule(pick=PICK)
    def reuse_key_for_another_request(self, pick):
        done = self.done[pick % len(self.done)]
        args = list(done.args)
        value = args[done.changeable]
        args[done.changeable] = value + 1 if isinstance(value, int) else value + "-changed"
        with pytest.raises(Conflict) as refused:
            self.run(done.operation, *args)
        assert refused.value.code == "idempotency_key_reused"

    # ------------------------------------------------------------ checks

    @invariant()
    def books_are_sound(self):
        with db.unit_of_work() as s:
            assert ledger.check_invariants(s) == []

    @invariant()
    def books_match_the_model(self):
        orders, sellers = self.books()
        assert orders == {order: e.money() for order, e in self.orders.items()}
        in_flight = {seller: 0 for seller in self.sellers}
        for seller, amount in self.pending.values():
            in_flight[seller] += amount
        assert sellers == {seller: (self.available[seller], in_flight[seller])
                           for seller in self.sellers}


def test_random_sequences_keep_the_books_sound(app):
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=25, stateful_step_count=30, deadline=None))
