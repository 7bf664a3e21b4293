"""Random sequences of orders, deliveries, cases, answers, claims, decisions of every
outcome, approvals, returns, inspections, timers, withdrawals, retries and duplicate
requests (Hypothesis stateful testing), with the money checked after every step.

Each step asks the services to do something, predicts from the rules (and the rows as
they are just before the step) whether it must succeed and with what state, or be
refused and with which code, and checks it.  After every step: the ledger balances, no
order was refunded, released or split twice, held + released + refunded == captured for
every order, a closed case holds nothing and its money matches its outcome, an open case
holds its order.

As in tests/marketplace/test_ledger_stateful.py the database is created once per test,
not once per example: the members and staff are made once, each example makes its own
orders and cases, its clock starts after the previous example's ended, and its teardown
closes the cases it left open (through the services), so that the next example's queues
hold only its own cases and an example plays out the same way each time Hypothesis runs
it.  The invariants cover every row, earlier examples' too.

HYPOTHESIS_MAX_EXAMPLES and HYPOTHESIS_STEPS raise the defaults (25 examples of up to
30 steps) for a longer run.
"""
from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from disputes import authentication_link, claims, decisions, opening, responses
from disputes.models import (
    CLOSED_STATES,
    DECISION_REASONS,
    NOT_COVERED,
    CaseState,
    DisputeCase,
    Outcome,
)
from foundation import clock, db
from foundation.errors import DomainError
from foundation.staff.models import StaffUser
from foundation.staff.services import create_staff
from marketplace_core.ledger import services as ledger
from marketplace_core.ledger.models import LedgerTransaction
from marketplace_core.members.models import Member
from marketplace_core.orders import services as orders
from marketplace_core.orders.models import Order
from tests.builders.members import make_member
from tests.builders.orders import Sale, live_listing, place
from tests.builders.photos import photo
from tests.builders.shipping import carrier
from tests.disputes.support import CLOSING_KINDS, failed_jobs, settings_changed, sweep

EXAMPLES = int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "25"))
STEPS = int(os.environ.get("HYPOTHESIS_STEPS", "30"))
APPROVAL_ABOVE = 200_000                       # lowered so that some refunds need a lead
PRICES = st.sampled_from([40_000, 150_000, 260_000])   # totals either side of it
PICK = st.integers(min_value=0, max_value=10**6)
# A split's refund as a percentage of what is held: 0 and 100 or more are refused.
SHARES = st.integers(min_value=0, max_value=110)
# Mostly a step the rules allow; sometimes whatever the pick lands on.
FITTING = st.sampled_from([True, True, True, False])
REASONS = st.sampled_from(["undisclosed_damage", "not_as_described", "not_authentic",
                           "wrong_or_missing_item", "changed_mind", "bogus"])
# Short steps (a lease lapses after 20 minutes) and steps past the deadlines (2 days to
# respond or answer, 3 to inspect, 5 to ship a return, 48 hours of SLA).
ADVANCES = st.sampled_from([timedelta(minutes=10), timedelta(minutes=25), timedelta(days=1),
                            timedelta(days=2), timedelta(days=3), timedelta(days=6)])
OPEN_STATES = tuple(state for state in CaseState if state not in CLOSED_STATES)
WITHDRAWABLE = (CaseState.AWAITING_SELLER, CaseState.UNDER_REVIEW, CaseState.CLAIMED,
                CaseState.AWAITING_INFO, CaseState.WITH_AUTHENTICATION,
                CaseState.AWAITING_APPROVAL, CaseState.AWAITING_RETURN)
_start = [datetime(2024, 1, 1, 9, 0, tzinfo=UTC)]    # each example's clock starts here
_names = itertools.count(1)
_keys = itertools.count(1)          # idempotency keys, unique across examples


def decision_body(outcome: Outcome, reason_pick: int, key: str, **extra) -> dict:
    reasons = DECISION_REASONS[outcome]
    return {"outcome": str(outcome), "reason": reasons[reason_pick % len(reasons)],
            "note": "Decided on the evidence.", "idempotency_key": key, **extra}


class DisputesMachine(RuleBasedStateMachine):
    """The members, staff, orders and leases of one example."""

    # The members and staff of the whole test (password hashing is slow on purpose, so
    # they are made once, by the test, not by every example).
    people: dict[str, list[int]] = {}

    def __init__(self):
        super().__init__()
        self.now = _start[0]
        clock.freeze(self.now)
        self.sellers, self.buyers = self.people["sellers"], self.people["buyers"]
        self.agents, self.leads = self.people["agents"], self.people["leads"]
        self.orders: list[int] = []
        self.cases: list[int] = []
        self.leases: dict[int, tuple[int, str]] = {}      # case id -> (staff id, token)
        self.decided: list[tuple[int, dict]] = []         # (case id, body) to retry

    @initialize(prices=st.lists(PRICES, min_size=1, max_size=3),
                answered=st.lists(st.booleans(), min_size=3, max_size=3))
    def some_orders_with_cases(self, prices, answered):
        """Start from a few delivered orders, each with a case, some answered by the
        seller (so that short examples still reach the staff and the money)."""
        for price, seller_answered in zip(prices, answered, strict=False):
            order_id = self.delivered(price, self.buyers[0], self.sellers[0])
            case_id = self.add_case(order_id, "not_as_described", photos=1, expected=None)
            if seller_answered:
                self.attempt("seller answers", None, lambda s, c=case_id: responses.respond(
                    s, s.get(Member, self.sellers[0]), c, body="As described.", photos=[]))

    def teardown(self):
        """Close, through the services, every case the example left open: the next
        example's queues then hold only its own cases, so each example plays out the
        same way every time Hypothesis runs it."""
        for case_id in self.cases:
            event(f"case ended the example {self.case(case_id).state}")
        for case_id in self.in_states(*OPEN_STATES):
            state = self.case(case_id).state
            if state == CaseState.RETURN_IN_TRANSIT:
                carrier().advance(self.case(case_id).order_id, "delivered",
                                  direction="return")
                state = CaseState.AWAITING_INSPECTION
            with db.unit_of_work() as s:
                case = s.get(DisputeCase, case_id)
                if state == CaseState.AWAITING_INSPECTION:
                    responses.inspect(s, s.get(Member, case.seller_id), case_id, accept=True,
                                      body=None, photos=[])
                else:
                    responses.withdraw(s, s.get(Member, case.buyer_id), case_id)
        assert self.in_states(*OPEN_STATES) == []
        _start[0] = self.now + timedelta(days=1)
        clock.freeze(None)

    # ------------------------------------------------------------------ helpers

    def advance(self, delta: timedelta) -> None:
        self.now += delta
        clock.freeze(self.now)

    def case(self, case_id: int) -> DisputeCase:
        with db.unit_of_work() as s:
            case = s.get(DisputeCase, case_id)
            s.expunge(case)
            return case

    def order(self, order_id: int) -> Order:
        with db.unit_of_work() as s:
            order = s.get(Order, order_id)
            s.expunge(order)
            return order

    def attempt(self, label: str, expected: str | None, fn):
        """Run fn(s) in a unit of work.  `expected` None: it must succeed (its result is
        returned); else it must be refused with that code and leave the books as they
        were."""
        before = self.books()
        try:
            with db.unit_of_work() as s:
                result = fn(s)
        except DomainError as refused:
            assert refused.code == expected, (label, refused.code, expected)
            assert self.books() == before
            event(f"{label}: refused {refused.code}")
            return None
        assert expected is None, (label, "succeeded; expected", expected)
        event(f"{label}: done")
        return result

    def books(self) -> dict:
        with db.unit_of_work() as s:
            return ledger.orders_money(s, self.orders)

    def in_states(self, *states: CaseState) -> list[int]:
        """This example's cases in `states`, oldest first."""
        if not self.cases:
            return []
        with db.unit_of_work() as s:
            return list(s.scalars(select(DisputeCase.id).where(
                DisputeCase.id.in_(self.cases), DisputeCase.state.in_(states))
                .order_by(DisputeCase.id)))

    def pick_case(self, pick: int, fitting: bool, states) -> int:
        """Mostly a case in `states`; sometimes any case of the example."""
        candidates = (self.in_states(*states) if fitting else []) or self.cases
        return candidates[pick % len(candidates)]

    def openable_orders(self) -> list[int]:
        with db.unit_of_work() as s:
            return list(s.scalars(select(Order.id).where(
                Order.id.in_(self.orders), Order.status == "delivered",
                Order.on_hold.is_(False),
                Order.delivered_at > self.now - timedelta(days=3)).order_by(Order.id)))

    def member(self, s, member_id: int) -> Member:
        return s.get(Member, member_id)

    def live_lease(self, case: DisputeCase, staff_id: int, token: str | None) -> bool:
        return (case.state == CaseState.CLAIMED and case.claimed_by == staff_id
                and case.lease_token == token and case.lease_expires_at > self.now)

    # ------------------------------------------------------------------ orders

    @rule(price=PRICES, buyer=PICK, seller=PICK, deliver=st.sampled_from([True] * 5 + [False]))
    def place_order(self, price, buyer, seller, deliver):
        buyer, seller = self.buyers[buyer % 2], self.sellers[seller % 2]
        event(f"place order (delivered={deliver})")
        if deliver:
            self.delivered(price, buyer, seller)
        else:
            self.orders.append(place_for(buyer, seller, self.listing(seller, price)))

    def listing(self, seller: int, price: int) -> int:
        return live_listing(seller, price, title=f"Kanjeevaram saree {next(_names)}")

    def delivered(self, price: int, buyer: int, seller: int) -> int:
        order_id = place_for(buyer, seller, self.listing(seller, price))
        self.advance(timedelta(hours=2))
        carrier().advance(order_id, "in_transit")
        self.advance(timedelta(hours=2))
        carrier().advance(order_id, "delivered")
        self.orders.append(order_id)
        return order_id

    @precondition(lambda self: self.openable_orders())
    @rule(pick=PICK, fitting=FITTING)
    def buyer_accepts_the_order(self, pick, fitting):
        candidates = (self.openable_orders() if fitting else []) or self.orders
        order = self.order(candidates[pick % len(candidates)])
        if order.on_hold and order.status == "delivered":
            expected = "on_hold"
        elif order.status != "delivered":
            expected = "illegal_transition"
        else:
            expected = None
        self.attempt("accept order", expected, lambda s: orders.accept(
            s, s.get(Order, order.id), self.member(s, order.buyer_id)))

    # ------------------------------------------------------------------ opening

    @precondition(lambda self: self.openable_orders())
    @rule(pick=PICK, fitting=FITTING, reason=REASONS,
          photos=st.sampled_from([1, 1, 1, 2, 0]))
    def open_case(self, pick, fitting, reason, photos):
        candidates = (self.openable_orders() if fitting else []) or self.orders
        order = self.order(candidates[pick % len(candidates)])
        with db.unit_of_work() as s:
            existing = s.scalar(select(DisputeCase.id).where(DisputeCase.order_id == order.id))
        if reason in NOT_COVERED:
            expected = "reason_not_covered"
        elif reason == "bogus":
            expected = "bad_reason"
        elif existing is not None:
            expected = "case_exists"
        elif order.status == "completed":
            expected = "order_accepted"
        elif order.status in ("placed", "shipped"):
            expected = "not_delivered"
        elif order.status != "delivered":
            expected = "order_closed"
        elif self.now >= order.delivered_at + timedelta(days=3):
            expected = "window_closed"
        elif photos == 0:
            expected = "photo_required"
        else:
            expected = None
        self.add_case(order.id, reason, photos, expected)

    def add_case(self, order_id: int, reason: str, photos: int, expected: str | None,
                 ) -> int | None:
        case_id = self.attempt("open case", expected, lambda s: opening.open_case(
            s, s.get(Member, s.get(Order, order_id).buyer_id), order_id, reason=reason,
            description="Not what the listing showed.",
            photos=[photo() for _ in range(photos)]).id)
        if case_id is not None:
            self.cases.append(case_id)
            assert self.case(case_id).state == CaseState.AWAITING_SELLER
        return case_id

    # ------------------------------------------------------------------ the parties

    @precondition(lambda self: self.in_states(CaseState.AWAITING_SELLER, CaseState.AWAITING_INFO))
    @rule(pick=PICK, fitting=FITTING, seller=st.booleans())
    def party_answers(self, pick, fitting, seller):
        case = self.case(self.pick_case(pick, fitting, (CaseState.AWAITING_SELLER,
                                                        CaseState.AWAITING_INFO)))
        party = "seller" if seller else "buyer"
        member_id = case.seller_id if seller else case.buyer_id
        if case.state in CLOSED_STATES:
            expected, after = "case_closed", case.state
        elif case.state == CaseState.AWAITING_SELLER and seller:
            expected, after = None, CaseState.UNDER_REVIEW
        elif case.state == CaseState.AWAITING_INFO and case.info_requested_from == party:
            expected, after = None, CaseState.UNDER_REVIEW
        else:
            expected, after = None, case.state
        self.attempt(f"{party} answers", expected, lambda s: responses.respond(
            s, self.member(s, member_id), case.id, body="My side of it.", photos=[]))
        assert self.case(case.id).state == after

    @precondition(lambda self: self.in_states(CaseState.AWAITING_SELLER, CaseState.UNDER_REVIEW))
    @rule(pick=PICK, fitting=FITTING)
    def seller_accepts_the_return(self, pick, fitting):
        case = self.case(self.pick_case(pick, fitting, (CaseState.AWAITING_SELLER,
                                                        CaseState.UNDER_REVIEW)))
        if case.state not in (CaseState.AWAITING_SELLER, CaseState.UNDER_REVIEW):
            expected = "illegal_transition"
        elif case.counter_claimed_at is not None:
            expected = "already_returned"
        else:
            expected = None
        self.attempt("seller accepts the return", expected, lambda s: responses.accept_return(
            s, self.member(s, case.seller_id), case.id))
        if expected is None:
            assert self.case(case.id).state == CaseState.AWAITING_RETURN

    @precondition(lambda self: self.cases)
    @rule(pick=PICK, fitting=FITTING, now=st.sampled_from([True, False, False]))
    def buyer_withdraws(self, pick, fitting, now):
        """The buyer gives up (a third of the time this rule is drawn: withdrawing ends a
        case at once, and the other paths need the time)."""
        if not now:
            return
        case = self.case(self.pick_case(pick, fitting, WITHDRAWABLE))
        if case.state in WITHDRAWABLE:
            expected = None
        elif case.state in CLOSED_STATES:
            expected = "case_closed"
        else:
            expected = "return_in_progress"
        self.attempt("buyer withdraws", expected, lambda s: responses.withdraw(
            s, self.member(s, case.buyer_id), case.id))
        if expected is None:
            assert self.case(case.id).state == CaseState.CLOSED_WITHDRAWN

    @precondition(lambda self: self.in_states(CaseState.AWAITING_RETURN,
                                              CaseState.RETURN_IN_TRANSIT))
    @rule(pick=PICK, to=st.sampled_from(["in_transit", "delivered"]))
    def return_parcel_scanned(self, pick, to):
        case = self.case(self.pick_case(pick, True, (CaseState.AWAITING_RETURN,
                                                     CaseState.RETURN_IN_TRANSIT)))
        if to == "in_transit" and case.state == CaseState.RETURN_IN_TRANSIT:
            to = "delivered"
        carrier().advance(case.order_id, to, direction="return")
        event(f"return scanned {to}")
        after = CaseState.RETURN_IN_TRANSIT if to == "in_transit" else CaseState.AWAITING_INSPECTION
        assert self.case(case.id).state == after

    @precondition(lambda self: self.in_states(CaseState.AWAITING_INSPECTION))
    @rule(pick=PICK, fitting=FITTING, accept=st.booleans())
    def seller_inspects(self, pick, fitting, accept):
        case = self.case(self.pick_case(pick, fitting, (CaseState.AWAITING_INSPECTION,)))
        expected = None if case.state == CaseState.AWAITING_INSPECTION else "illegal_transition"
        self.attempt(f"seller inspects (accept={accept})", expected, lambda s:
                     responses.inspect(s, self.member(s, case.seller_id), case.id,
                                       accept=accept, body="Checked the returned item.",
                                       photos=[] if accept else [photo()]))
        if expected is None:
            after = CaseState.CLOSED_REFUNDED if accept else CaseState.UNDER_REVIEW
            assert self.case(case.id).state == after

    @precondition(lambda self: self.in_states(CaseState.WITH_AUTHENTICATION))
    @rule(pick=PICK, verdict=st.sampled_from(["counterfeit", "authentic"]))
    def authenticators_answer(self, pick, verdict):
        case = self.case(self.pick_case(pick, True, (CaseState.WITH_AUTHENTICATION,)))
        with db.unit_of_work() as s:
            authentication_link.verdict_given(s, request_id=case.authentication_request_id,
                                              verdict=verdict)
        event("authentication verdict")
        after = self.case(case.id)
        assert (after.state, after.authentication_verdict) == (CaseState.UNDER_REVIEW, verdict)

    # ------------------------------------------------------------------ staff

    @precondition(lambda self: self.in_states(CaseState.UNDER_REVIEW,
                                              CaseState.AWAITING_APPROVAL, CaseState.CLAIMED))
    @rule(who=PICK, lead=st.booleans(), fitting=FITTING)
    def claim(self, who, lead, fitting):
        queue = "approval" if self.in_states(CaseState.AWAITING_APPROVAL) else "review"
        if not fitting:
            queue = "approval" if queue == "review" else "review"
        self.claim_for((self.leads if lead or queue == "approval" else self.agents)[who % 2],
                       queue)

    def claim_for(self, staff_id: int, queue: str) -> int | None:
        """claim_next, checked against what the queue showed just before."""
        with db.unit_of_work() as s:
            me = s.get(StaffUser, staff_id)
            holds = claims.held_by(s, me)
            candidates = {c.id for c in claims.visible_cases(s, me, queue, limit=10_000)}
        claimed = self.attempt(f"claim from {queue}", "claim_limit" if holds else None,
                               lambda s: claims.claim_next(s, s.get(StaffUser, staff_id), queue))
        if holds:
            return None
        if claimed is None:
            assert not candidates
            return None
        assert claimed.id in candidates
        assert (claimed.state, claimed.claimed_by) == (CaseState.CLAIMED, staff_id)
        self.leases[claimed.id] = (staff_id, claimed.lease_token)
        return claimed.id

    @precondition(lambda self: self.in_states(CaseState.UNDER_REVIEW))
    @rule(who=PICK, outcome=st.sampled_from(list(Outcome)), reason=PICK,
          share=SHARES,
          info_from=st.sampled_from(["buyer", "seller"]))
    def agent_claims_and_decides(self, who, outcome, reason, share, info_from):
        case_id = self.claim_for(self.agents[who % 2], "review")
        if case_id is not None:
            self.decide_under_lease(case_id, outcome, reason, share, info_from)

    @precondition(lambda self: self.in_states(CaseState.AWAITING_APPROVAL))
    @rule(who=PICK, approve=st.booleans())
    def lead_claims_and_reviews(self, who, approve):
        case_id = self.claim_for(self.leads[who % 2], "approval")
        if case_id is not None:
            self.review_under_lease(case_id, approve)

    @precondition(lambda self: self.leases)
    @rule(pick=PICK)
    def release_claim(self, pick):
        case_id = sorted(self.leases)[pick % len(self.leases)]
        staff_id, token = self.leases.pop(case_id)
        case = self.case(case_id)
        expected = None if self.live_lease(case, staff_id, token) else "stale_lease"
        self.attempt("release", expected, lambda s: claims.release(
            s, s.get(StaffUser, staff_id), s.get(DisputeCase, case_id), token))

    @precondition(lambda self: self.leases)
    @rule(pick=PICK, outcome=st.sampled_from(list(Outcome)), reason=PICK,
          share=SHARES,
          info_from=st.sampled_from(["buyer", "seller"]))
    def decide(self, pick, outcome, reason, share, info_from):
        self.decide_under_lease(sorted(self.leases)[pick % len(self.leases)], outcome,
                                reason, share, info_from)

    def decide_under_lease(self, case_id: int, outcome: Outcome, reason: int, share: int,
                           info_from: str) -> None:
        staff_id, token = self.leases[case_id]
        case = self.case(case_id)
        held = ledger_held(case.order_id)
        extra: dict = {}
        if outcome == Outcome.SPLIT:
            extra["refund_paise"] = held * share // 100
        if outcome == Outcome.REQUEST_INFO:
            extra["info_from"] = info_from
        body = decision_body(outcome, reason, f"k-{next(_keys)}", **extra)
        expected, after = self.expected_decision(case, staff_id, token, body, held)
        result = self.attempt(f"decide {outcome}", expected, lambda s: decisions.decide(
            s, s.get(StaffUser, staff_id), case_id, decisions.parse_decision(body), token))
        if expected is None:
            assert not result.replayed
            self.leases.pop(case_id)
            self.decided.append((case_id, body))
            assert self.case(case_id).state == after

    def expected_decision(self, case: DisputeCase, staff_id: int, token: str, body: dict,
                          held: int) -> tuple[str | None, CaseState | None]:
        outcome = Outcome(body["outcome"])
        refund = body.get("refund_paise")
        if not self.live_lease(case, staff_id, token):
            return "stale_lease", None
        if case.claimed_from != CaseState.UNDER_REVIEW:
            return "illegal_transition", None
        if outcome == Outcome.SPLIT and not 0 < refund < held:
            return "bad_amount", None
        if outcome == Outcome.REFUND_WITH_RETURN and case.counter_claimed_at is not None:
            return "already_returned", None
        if outcome == Outcome.SEND_TO_AUTHENTICATION and case.authentication_verdict:
            return "already_authenticated", None
        amount = refund if outcome == Outcome.SPLIT else held
        if outcome in (Outcome.REFUND_WITH_RETURN, Outcome.REFUND_WITHOUT_RETURN,
                       Outcome.SPLIT) and amount > APPROVAL_ABOVE:
            return None, CaseState.AWAITING_APPROVAL
        return None, {Outcome.REFUND_WITH_RETURN: CaseState.AWAITING_RETURN,
                      Outcome.REFUND_WITHOUT_RETURN: CaseState.CLOSED_REFUNDED,
                      Outcome.SPLIT: CaseState.CLOSED_SPLIT,
                      Outcome.RELEASE_TO_SELLER: CaseState.CLOSED_RELEASED,
                      Outcome.REQUEST_INFO: CaseState.AWAITING_INFO,
                      Outcome.SEND_TO_AUTHENTICATION: CaseState.WITH_AUTHENTICATION}[outcome]

    @precondition(lambda self: self.leases)
    @rule(pick=PICK, approve=st.booleans())
    def lead_reviews_a_refund(self, pick, approve):
        self.review_under_lease(sorted(self.leases)[pick % len(self.leases)], approve)

    def review_under_lease(self, case_id: int, approve: bool) -> None:
        staff_id, token = self.leases[case_id]
        case = self.case(case_id)
        with db.unit_of_work() as s:
            pending = decisions.pending_decision(s, case_id)
            is_lead = s.get(StaffUser, staff_id).role == "support_lead"
            deciding_agent = pending.staff_id if pending else None
        if not is_lead:
            expected = "wrong_role"
        elif not self.live_lease(case, staff_id, token):
            expected = "stale_lease"
        elif pending is None or case.claimed_from != CaseState.AWAITING_APPROVAL:
            expected = "illegal_transition"
        elif deciding_agent == staff_id:
            expected = "own_decision"
        else:
            expected = None
        self.attempt(f"lead {'approves' if approve else 'refuses'}", expected,
                     lambda s: decisions.review_approval(
                         s, s.get(StaffUser, staff_id), case_id, approve=approve,
                         note=None if approve else "Not convinced.", lease_token=token))
        if expected is None:
            self.leases.pop(case_id)
            after = self.case(case_id).state
            if approve:
                assert after in (CaseState.AWAITING_RETURN, CaseState.CLOSED_REFUNDED,
                                 CaseState.CLOSED_SPLIT)
            else:
                assert after == CaseState.UNDER_REVIEW

    @precondition(lambda self: self.decided)
    @rule(pick=PICK)
    def retry_a_decision(self, pick):
        """The agent's request is sent again with the same key (a retry after a timeout,
        a double click): the first decision comes back and nothing moves."""
        case_id, body = self.decided[pick % len(self.decided)]
        staff_id = self.decided_by(case_id, body["idempotency_key"])
        before = (self.books(), self.case(case_id).version)
        result = self.attempt("retry a decision", None, lambda s: decisions.decide(
            s, s.get(StaffUser, staff_id), case_id, decisions.parse_decision(body), None))
        assert result.replayed
        assert result.decision.idempotency_key == body["idempotency_key"]
        assert (self.books(), self.case(case_id).version) == before

    @precondition(lambda self: self.decided)
    @rule(pick=PICK)
    def reuse_a_key_for_another_decision(self, pick):
        case_id, body = self.decided[pick % len(self.decided)]
        staff_id = self.decided_by(case_id, body["idempotency_key"])
        changed = {**body, "note": body["note"] + " Changed my mind."}
        self.attempt("reuse a key", "idempotency_key_reused", lambda s: decisions.decide(
            s, s.get(StaffUser, staff_id), case_id, decisions.parse_decision(changed), None))

    def decided_by(self, case_id: int, key: str) -> int:
        with db.unit_of_work() as s:
            return next(d.staff_id for d in decisions.decisions_of(s, case_id)
                        if d.idempotency_key == key)

    # ------------------------------------------------------------------ time

    @rule(delta=ADVANCES)
    def time_passes(self, delta):
        """The clock moves on; the beat runs the sweep and the worker every due timer
        (the armed ones and those the sweep enqueued)."""
        self.advance(delta)
        event(f"time passes: {sum(sweep().values())} timers and flags")

    # ------------------------------------------------------------------ invariants

    @invariant()
    def no_job_failed(self):
        assert failed_jobs() == []

    @invariant()
    def books_are_sound(self):
        with db.unit_of_work() as s:
            assert ledger.check_invariants(s) == []

    @invariant()
    def no_order_settles_twice(self):
        with db.unit_of_work() as s:
            twice = s.execute(select(LedgerTransaction.order_id, func.count())
                              .where(LedgerTransaction.kind.in_(CLOSING_KINDS))
                              .group_by(LedgerTransaction.order_id)
                              .having(func.count() > 1)).all()
        assert twice == []

    @invariant()
    def every_order_and_case_adds_up(self):
        with db.unit_of_work() as s:
            order_ids = list(s.scalars(select(Order.id)))
            money = ledger.orders_money(s, order_ids)
            for order_id in order_ids:
                m = money[order_id]
                assert m["held_paise"] + m["released_paise"] + m["refunded_paise"] == \
                    m["captured_paise"], (order_id, m)
            for case in s.scalars(select(DisputeCase)):
                m, order = money[case.order_id], s.get(Order, case.order_id)
                assert_case_money(case, order, m)


def assert_case_money(case: DisputeCase, order: Order, m: dict[str, int]) -> None:
    captured = m["captured_paise"]
    if case.state not in CLOSED_STATES:
        assert (order.on_hold, order.hold_case_ref, m["held_paise"]) == \
            (True, case.ref, captured), (case.id, case.state, m)
        return
    assert m["held_paise"] == 0 and not order.on_hold, (case.id, case.state, m)
    if case.state == CaseState.CLOSED_REFUNDED:
        assert m["refunded_paise"] == captured == case.refund_paise
    elif case.state == CaseState.CLOSED_SPLIT:
        assert 0 < m["refunded_paise"] == case.refund_paise < captured
        assert m["released_paise"] == captured - case.refund_paise
    else:
        assert (m["released_paise"], m["refunded_paise"]) == (captured, 0)


def ledger_held(order_id: int) -> int:
    with db.unit_of_work() as s:
        return ledger.order_money(s, order_id)["held_paise"]


def place_for(buyer: int, seller: int, listing: int) -> int:
    return place(Sale(buyer=buyer, seller=seller, listing=listing))


@pytest.fixture
def approvals_above(app):
    with settings_changed(DISPUTE_REFUND_APPROVAL_PAISE=APPROVAL_ABOVE):
        yield


@pytest.fixture
def people(app, settings):
    with db.unit_of_work() as s:
        staff = {role: [create_staff(s, settings, email=f"{role}{i}@staff.test", role=role,
                                     password="correct-horse-battery-staple").id
                        for i in range(2)]
                 for role in ("support_agent", "support_lead")}
    DisputesMachine.people = {
        "sellers": [make_member(f"hseller{i}") for i in range(2)],
        "buyers": [make_member(f"hbuyer{i}") for i in range(2)],
        "agents": staff["support_agent"], "leads": staff["support_lead"]}
    yield
    DisputesMachine.people = {}


def test_random_case_histories_keep_the_money_right(approvals_above, people):
    run_state_machine_as_test(DisputesMachine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None))
