"""The ledger's operations, one at a time: what each moves and what each refuses."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from foundation import db
from foundation.errors import Conflict, NotFound, ValidationFailed
from marketplace_core.ledger import accounts
from marketplace_core.ledger import services as ledger
from marketplace_core.ledger.models import (
    Account,
    AccountKind,
    Entry,
    HoldState,
    LedgerTransaction,
    PayoutState,
)

BUYER, SELLER = 101, 202
PRICE = 100_000  # Rs 1,000.00


def new_key() -> str:
    return uuid.uuid4().hex


def capture(order_id: int = 1, amount: int = PRICE, seller: int = SELLER) -> None:
    with db.unit_of_work() as s:
        ledger.capture_payment(s, order_id, BUYER, seller, amount, new_key(), f"pay_{order_id}")


def call(operation, *args, **kwargs):
    """Run one service call in its own unit of work, as a request or job would."""
    with db.unit_of_work() as s:
        result = operation(s, *args, **kwargs)
        return getattr(result, "id", result)


def money(order_id: int = 1) -> dict[str, int]:
    with db.unit_of_work() as s:
        return ledger.order_money(s, order_id)


def platform_balance(kind: AccountKind) -> int:
    with db.unit_of_work() as s:
        return accounts.balance_of(s, kind)


def seller_balance(member_id: int = SELLER) -> int:
    with db.unit_of_work() as s:
        return ledger.seller_balance(s, member_id)


def hold_state(order_id: int = 1) -> str:
    with db.unit_of_work() as s:
        return ledger.hold_for(s, order_id).state


def transaction_count() -> int:
    with db.unit_of_work() as s:
        return s.execute(select(func.count(LedgerTransaction.id))).scalar_one()


def assert_books_sound() -> None:
    with db.unit_of_work() as s:
        assert ledger.check_invariants(s) == []


def expect_refusal(error: type, code: str, operation, *args, **kwargs) -> None:
    """The call is refused with `code`, and no money moves."""
    before = transaction_count()
    with pytest.raises(error) as refused:
        call(operation, *args, **kwargs)
    assert refused.value.code == code
    assert transaction_count() == before


# ---------------------------------------------------------------- capture

def test_capture_holds_the_payment_for_the_order(app):
    with db.unit_of_work() as s:
        transaction = ledger.capture_payment(s, 1, BUYER, SELLER, PRICE, "k1", "pay_abc")
        amounts = sorted(entry.amount_paise for entry in transaction.entries)
    assert amounts == [-PRICE, PRICE]
    assert money() == {"captured_paise": PRICE, "held_paise": PRICE, "released_paise": 0,
                       "refunded_paise": 0}
    assert platform_balance(AccountKind.PLATFORM_CASH) == PRICE
    assert hold_state() == HoldState.HELD
    assert_books_sound()


def test_an_order_never_paid_for_shows_zeros(app):
    assert money(999) == {"captured_paise": 0, "held_paise": 0, "released_paise": 0,
                          "refunded_paise": 0}


def test_many_orders_money_is_read_at_once(app):
    capture(1)
    capture(2, amount=5_000)
    call(ledger.refund_buyer, 2, 1_000, new_key(), "stain")
    with db.unit_of_work() as s:
        figures = ledger.orders_money(s, [1, 2, 3])
    assert figures == {
        1: {"captured_paise": PRICE, "held_paise": PRICE, "released_paise": 0,
            "refunded_paise": 0},
        2: {"captured_paise": 5_000, "held_paise": 4_000, "released_paise": 0,
            "refunded_paise": 1_000},
        3: {"captured_paise": 0, "held_paise": 0, "released_paise": 0, "refunded_paise": 0},
    }


def test_an_order_is_paid_for_only_once(app):
    capture()
    expect_refusal(Conflict, "order_already_captured", ledger.capture_payment, 1, BUYER,
                   SELLER, PRICE, new_key(), "pay_again")
    assert money()["captured_paise"] == PRICE


# ---------------------------------------------------------------- release

def test_release_pays_the_seller_the_price_less_commission(app):
    capture()
    call(ledger.release_to_seller, 1, 20_000, 0, new_key())
    assert money() == {"captured_paise": PRICE, "held_paise": 0, "released_paise": PRICE,
                       "refunded_paise": 0}
    assert seller_balance() == 80_000
    assert platform_balance(AccountKind.PLATFORM_COMMISSION) == 20_000
    assert hold_state() == HoldState.RELEASED
    assert_books_sound()


def test_release_charges_a_heavier_label_to_the_seller(app):
    capture()
    call(ledger.release_to_seller, 1, 20_000, 15_000, new_key())
    assert seller_balance() == 65_000
    assert platform_balance(AccountKind.SHIPPING_LABEL_FEES) == 15_000
    assert money()["released_paise"] == PRICE


def test_a_zero_commission_writes_no_empty_entry(app):
    capture()
    with db.unit_of_work() as s:
        transaction = ledger.release_to_seller(s, 1, 0, 0, new_key())
        assert sorted(e.amount_paise for e in transaction.entries) == [-PRICE, PRICE]


def test_release_after_a_partial_refund_releases_what_is_left(app):
    capture()
    call(ledger.refund_buyer, 1, 30_000, new_key(), "missing belt")
    call(ledger.release_to_seller, 1, 14_000, 0, new_key())
    assert money() == {"captured_paise": PRICE, "held_paise": 0, "released_paise": 70_000,
                       "refunded_paise": 30_000}
    assert seller_balance() == 56_000
    assert_books_sound()


def test_release_cannot_take_more_fees_than_are_held(app):
    capture()
    expect_refusal(ValidationFailed, "release_exceeds_held", ledger.release_to_seller, 1,
                   90_000, 10_001, new_key())
    assert money()["held_paise"] == PRICE


def test_released_funds_cannot_be_released_or_refunded_again(app):
    capture()
    call(ledger.release_to_seller, 1, 20_000, 0, new_key())
    expect_refusal(Conflict, "funds_not_held", ledger.release_to_seller, 1, 20_000, 0,
                   new_key())
    expect_refusal(Conflict, "funds_not_held", ledger.refund_buyer, 1, 1, new_key(), "late")
    assert seller_balance() == 80_000


# ---------------------------------------------------------------- refund

def test_a_full_refund_empties_the_hold_and_closes_it(app):
    capture()
    call(ledger.refund_buyer, 1, PRICE, new_key(), "not as described")
    assert money() == {"captured_paise": PRICE, "held_paise": 0, "released_paise": 0,
                       "refunded_paise": PRICE}
    assert platform_balance(AccountKind.PLATFORM_CASH) == 0
    assert hold_state() == HoldState.REFUNDED
    expect_refusal(Conflict, "funds_not_held", ledger.release_to_seller, 1, 0, 0, new_key())
    assert_books_sound()


def test_partial_refunds_add_up_and_cannot_exceed_what_is_held(app):
    capture()
    call(ledger.refund_buyer, 1, 40_000, new_key(), "stain")
    call(ledger.refund_buyer, 1, 50_000, new_key(), "second stain")
    assert hold_state() == HoldState.HELD
    expect_refusal(ValidationFailed, "refund_exceeds_held", ledger.refund_buyer, 1, 10_001,
                   new_key(), "too much")
    call(ledger.refund_buyer, 1, 10_000, new_key(), "the rest")
    assert money()["refunded_paise"] == PRICE
    assert hold_state() == HoldState.REFUNDED
    assert_books_sound()


def test_an_order_never_captured_cannot_be_refunded_or_released(app):
    with pytest.raises(NotFound):
        call(ledger.refund_buyer, 7, 100, new_key(), "no such order")
    with pytest.raises(NotFound):
        call(ledger.release_to_seller, 7, 0, 0, new_key())


# ---------------------------------------------------------------- split

def test_split_refunds_part_and_releases_the_rest_at_once(app):
    capture()
    with db.unit_of_work() as s:
        transaction = ledger.split(s, 1, 30_000, 70_000, 14_000, new_key(), label_fee_paise=1_000)
        assert sum(e.amount_paise for e in transaction.entries) == 0
    assert money() == {"captured_paise": PRICE, "held_paise": 0, "released_paise": 70_000,
                       "refunded_paise": 30_000}
    assert seller_balance() == 55_000
    assert platform_balance(AccountKind.PLATFORM_COMMISSION) == 14_000
    assert platform_balance(AccountKind.SHIPPING_LABEL_FEES) == 1_000
    assert hold_state() == HoldState.SPLIT
    assert_books_sound()


@pytest.mark.parametrize("refund, release", [(30_000, 69_999), (30_000, 70_001),
                                             (50_000, 60_000)])
def test_a_split_must_add_up_exactly_to_what_is_held(app, refund, release):
    capture()
    expect_refusal(ValidationFailed, "split_must_equal_held", ledger.split, 1, refund, release,
                   0, new_key())
    assert hold_state() == HoldState.HELD


def test_a_split_after_a_partial_refund_divides_only_what_is_left(app):
    capture()
    call(ledger.refund_buyer, 1, 20_000, new_key(), "stain")
    expect_refusal(ValidationFailed, "split_must_equal_held", ledger.split, 1, 30_000, 70_000,
                   0, new_key())
    call(ledger.split, 1, 30_000, 50_000, 10_000, new_key())
    assert money() == {"captured_paise": PRICE, "held_paise": 0, "released_paise": 50_000,
                       "refunded_paise": 50_000}


def test_split_fees_cannot_exceed_the_released_part(app):
    capture()
    expect_refusal(ValidationFailed, "release_exceeds_held", ledger.split, 1, 90_000, 10_000,
                   10_001, new_key())


# ---------------------------------------------------------------- input refusals

BAD_AMOUNTS = [0, -1, 1.5, "100", True, None]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_amounts_must_be_positive_whole_paise(app, amount):
    with pytest.raises(ValidationFailed) as refused:
        call(ledger.capture_payment, 1, BUYER, SELLER, amount, new_key(), "pay")
    assert refused.value.fields == {"amount_paise": "positive integer paise"}
    capture()
    expect_refusal(ValidationFailed, "bad_amount", ledger.refund_buyer, 1, amount, new_key(),
                   "r")
    expect_refusal(ValidationFailed, "bad_amount", ledger.recover_chargeback, 1, amount,
                   new_key())
    expect_refusal(ValidationFailed, "bad_amount", ledger.split, 1, amount, PRICE, 0,
                   new_key())


@pytest.mark.parametrize("fee", [-1, 2.0, "0", False])
def test_fees_must_be_whole_paise_zero_or_more(app, fee):
    capture()
    expect_refusal(ValidationFailed, "bad_amount", ledger.release_to_seller, 1, fee, 0,
                   new_key())
    expect_refusal(ValidationFailed, "bad_amount", ledger.release_to_seller, 1, 0, fee,
                   new_key())


@pytest.mark.parametrize("key", ["", "   ", None, 42, "k" * 201])
def test_an_idempotency_key_is_required(app, key):
    expect_refusal(ValidationFailed, "bad_idempotency_key", ledger.capture_payment, 1, BUYER,
                   SELLER, PRICE, key, "pay")


@pytest.mark.parametrize("order_id", [0, -3, "1", 1.0, None])
def test_ids_must_be_positive_integers(app, order_id):
    expect_refusal(ValidationFailed, "bad_id", ledger.capture_payment, order_id, BUYER,
                   SELLER, PRICE, new_key(), "pay")


# ---------------------------------------------------------------- payouts

def released_order(order_id: int = 1, commission: int = 20_000) -> None:
    capture(order_id)
    call(ledger.release_to_seller, order_id, commission, 0, new_key())


def payout_state(payout_id: int) -> str:
    with db.unit_of_work() as s:
        return ledger.get_payout(s, payout_id).state


def in_flight(member_id: int = SELLER) -> int:
    with db.unit_of_work() as s:
        return ledger.payout_in_flight(s, member_id)


def test_a_payout_moves_the_available_balance_in_flight_then_out(app):
    released_order()
    payout_id = call(ledger.start_payout, SELLER, new_key())
    assert (seller_balance(), in_flight()) == (0, 80_000)
    assert payout_state(payout_id) == PayoutState.PENDING
    assert_books_sound()
    call(ledger.complete_payout, payout_id, new_key(), "payout_ref_1")
    assert (seller_balance(), in_flight()) == (0, 0)
    assert payout_state(payout_id) == PayoutState.PAID
    assert platform_balance(AccountKind.PLATFORM_CASH) == PRICE - 80_000
    assert_books_sound()


def test_a_failed_payout_returns_the_money_to_the_available_balance(app):
    released_order()
    payout_id = call(ledger.start_payout, SELLER, new_key())
    call(ledger.fail_payout, payout_id, new_key(), "bank account closed")
    assert (seller_balance(), in_flight()) == (80_000, 0)
    assert payout_state(payout_id) == PayoutState.FAILED
    assert_books_sound()


def test_a_settled_payout_cannot_be_settled_again(app):
    released_order()
    payout_id = call(ledger.start_payout, SELLER, new_key())
    call(ledger.complete_payout, payout_id, new_key(), "ref")
    expect_refusal(Conflict, "payout_not_pending", ledger.fail_payout, payout_id, new_key(),
                   "too late")
    expect_refusal(Conflict, "payout_not_pending", ledger.complete_payout, payout_id,
                   new_key(), "ref2")
    assert payout_state(payout_id) == PayoutState.PAID


def test_nothing_is_paid_out_from_an_empty_balance(app):
    expect_refusal(Conflict, "nothing_to_pay_out", ledger.start_payout, SELLER, new_key())
    released_order()
    call(ledger.start_payout, SELLER, new_key())
    expect_refusal(Conflict, "nothing_to_pay_out", ledger.start_payout, SELLER, new_key())


def test_an_unknown_payout_is_not_found(app):
    with pytest.raises(NotFound):
        call(ledger.complete_payout, 404, new_key(), "ref")


# ---------------------------------------------------------------- chargebacks

def test_a_chargeback_is_recovered_from_the_sellers_balance(app):
    released_order()
    call(ledger.recover_chargeback, 1, 30_000, new_key())
    assert seller_balance() == 50_000
    assert platform_balance(AccountKind.CHARGEBACK_RECOVERY) == 30_000
    assert_books_sound()


def test_a_negative_balance_is_carried_to_the_next_payout(app):
    released_order(1)
    payout_id = call(ledger.start_payout, SELLER, new_key())
    call(ledger.complete_payout, payout_id, new_key(), "ref")
    call(ledger.recover_chargeback, 1, PRICE, new_key())
    assert seller_balance() == -PRICE
    expect_refusal(Conflict, "nothing_to_pay_out", ledger.start_payout, SELLER, new_key())
    released_order(2, commission=0)  # a sale of PRICE only clears the debt
    expect_refusal(Conflict, "nothing_to_pay_out", ledger.start_payout, SELLER, new_key())
    released_order(3, commission=40_000)
    payout_id = call(ledger.start_payout, SELLER, new_key())
    with db.unit_of_work() as s:
        assert ledger.get_payout(s, payout_id).amount_paise == 60_000
    assert_books_sound()


def test_a_chargeback_cannot_exceed_what_the_buyer_paid_and_kept(app):
    capture()
    call(ledger.split, 1, 40_000, 60_000, 12_000, new_key())
    call(ledger.recover_chargeback, 1, 50_000, new_key())
    expect_refusal(ValidationFailed, "chargeback_exceeds_paid", ledger.recover_chargeback, 1,
                   10_001, new_key())
    call(ledger.recover_chargeback, 1, 10_000, new_key())
    assert_books_sound()


def test_held_funds_are_refunded_rather_than_charged_back(app):
    capture()
    expect_refusal(Conflict, "not_released", ledger.recover_chargeback, 1, 100, new_key())
    call(ledger.refund_buyer, 1, PRICE, new_key(), "refunded instead")
    expect_refusal(Conflict, "not_released", ledger.recover_chargeback, 1, 100, new_key())


# ---------------------------------------------------------------- accounts and balances

def test_each_account_is_created_once_per_owner(app):
    with db.unit_of_work() as s:
        first = accounts.get_or_create_account(s, AccountKind.SELLER_AVAILABLE, member_id=5)
        again = accounts.get_or_create_account(s, AccountKind.SELLER_AVAILABLE, member_id=5)
        other = accounts.get_or_create_account(s, AccountKind.SELLER_AVAILABLE, member_id=6)
        cash = accounts.get_or_create_account(s, AccountKind.PLATFORM_CASH)
        assert first.id == again.id != other.id
        assert cash.id == accounts.get_or_create_account(s, AccountKind.PLATFORM_CASH).id
        assert (first.currency, cash.member_id, cash.order_id) == ("INR", None, None)


@pytest.mark.parametrize("kind, ids", [
    (AccountKind.PLATFORM_CASH, {"member_id": 1}),
    (AccountKind.SELLER_AVAILABLE, {}),
    (AccountKind.SELLER_AVAILABLE, {"order_id": 1}),
    (AccountKind.ORDER_HELD, {"member_id": 1}),
])
def test_an_account_is_keyed_by_exactly_its_owner(app, kind, ids):
    with db.unit_of_work() as s, pytest.raises(ValidationFailed):
        accounts.get_or_create_account(s, kind, **ids)


def test_an_account_created_meanwhile_by_another_request_is_reused(app, monkeypatch):
    """The race: our lookup misses, another transaction commits the same account, our
    insert hits the unique key.  Only the savepoint rolls back; the work goes on."""
    with db.unit_of_work() as s:
        winner = accounts.get_or_create_account(s, AccountKind.SELLER_AVAILABLE, member_id=9)
        winner_id = winner.id
    real_find = accounts._find_by_key
    lookups = []

    def miss_the_first_lookup(s, key):
        lookups.append(key)
        return None if len(lookups) == 1 else real_find(s, key)

    monkeypatch.setattr(accounts, "_find_by_key", miss_the_first_lookup)
    with db.unit_of_work() as s:
        s.add(Account(key="unrelated/INR", kind="platform_cash", currency="INR"))
        loser = accounts.get_or_create_account(s, AccountKind.SELLER_AVAILABLE, member_id=9)
        assert loser.id == winner_id
    assert len(lookups) == 2  # the miss, then the re-read after the refused insert
    with db.unit_of_work() as s:
        keys = s.execute(select(Account.key).order_by(Account.key)).scalars().all()
    assert keys == ["seller_available/member:9/INR", "unrelated/INR"]


def test_balances_are_sums_of_entries(app):
    released_order(1)
    released_order(2, commission=10_000)
    with db.unit_of_work() as s:
        account = accounts.find_account(s, AccountKind.SELLER_AVAILABLE, member_id=SELLER)
        total = s.execute(select(func.sum(Entry.amount_paise))
                          .where(Entry.account_id == account.id)).scalar_one()
    assert seller_balance() == -total == 80_000 + 90_000
