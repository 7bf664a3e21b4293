"""Moving money: capture into held funds, release, refund, split, chargebacks, payouts.

Every function takes the session first, flushes and never commits; the caller's unit of
work decides.  Every money-moving function takes an idempotency key (see
idempotency.py).  Row locks (PostgreSQL; SQLite serialises writers itself) are taken
before any balance is read, always hold first and then account, so that two requests
on the same order or seller run one after the other and cannot both spend one balance.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation import clock
from foundation.errors import Conflict, NotFound, ValidationFailed
from marketplace_core.ledger import idempotency
from marketplace_core.ledger.accounts import balance, get_or_create_account, locked_account
from marketplace_core.ledger.commission import CommissionRules, commission_for
from marketplace_core.ledger.invariants import check_invariants
from marketplace_core.ledger.models import (
    Account,
    AccountKind,
    Hold,
    HoldState,
    LedgerTransaction,
    Payout,
    PayoutState,
    TransactionKind,
)
from marketplace_core.ledger.postings import credit, debit, post
from marketplace_core.ledger.queries import (
    chargebacks_recovered,
    get_payout,
    hold_for,
    order_money,
    orders_money,
    payout_in_flight,
    seller_balance,
)

# The reading side is re-exported so that callers need only this module.
__all__ = [
    "CommissionRules", "capture_payment", "chargebacks_recovered", "check_invariants",
    "commission_for", "complete_payout", "fail_payout", "get_payout", "hold_for",
    "order_money", "orders_money", "payout_in_flight", "recover_chargeback", "refund_buyer",
    "release_to_seller", "seller_balance", "split", "start_payout",
]

MAX_KEY_LENGTH = 200
MAX_TEXT_LENGTH = 100

# Which closed states each hold state may move to; partial refunds stay HELD.
HOLD_TRANSITIONS = {
    HoldState.HELD: {HoldState.RELEASED, HoldState.REFUNDED, HoldState.SPLIT},
}
PAYOUT_TRANSITIONS = {
    PayoutState.PENDING: {PayoutState.PAID, PayoutState.FAILED},
}


# ---------------------------------------------------------------- capture and hold

def capture_payment(s: Session, order_id: int, buyer_id: int, seller_id: int,
                    amount_paise: int, idempotency_key: str, provider_ref: str,
                    ) -> LedgerTransaction:
    """The buyer's payment, captured by the provider, held for the order."""
    _require_id("order_id", order_id)
    _require_id("buyer_id", buyer_id)
    _require_id("seller_id", seller_id)
    _require_positive("amount_paise", amount_paise)
    _require_key(idempotency_key)
    _require_text("provider_ref", provider_ref)
    params = {"order_id": order_id, "buyer_id": buyer_id, "seller_id": seller_id,
              "amount_paise": amount_paise, "provider_ref": provider_ref}

    def perform():
        if hold_for(s, order_id) is not None:
            raise Conflict(f"order {order_id} has already been paid for",
                           code="order_already_captured")
        cash = get_or_create_account(s, AccountKind.PLATFORM_CASH)
        held = get_or_create_account(s, AccountKind.ORDER_HELD, order_id=order_id)
        transaction = post(s, TransactionKind.CAPTURE,
                           [debit(cash, amount_paise), credit(held, amount_paise)],
                           order_id=order_id, member_id=buyer_id, memo=provider_ref)
        s.add(Hold(order_id=order_id, buyer_id=buyer_id, seller_id=seller_id,
                   amount_paise=amount_paise, provider_ref=provider_ref,
                   state=HoldState.HELD, capture_transaction_id=transaction.id))
        s.flush()
        return transaction, None

    try:
        return idempotency.run_once(s, idempotency_key, "capture_payment", params, perform)
    except IntegrityError:
        # Another request captured this order under another key and committed first.
        if hold_for(s, order_id) is not None:
            raise Conflict(f"order {order_id} has already been paid for",
                           code="order_already_captured") from None
        raise


def release_to_seller(s: Session, order_id: int, commission_paise: int,
                      label_fee_paise: int, idempotency_key: str) -> LedgerTransaction:
    """Post everything still held: commission to the platform, the label fee (if any)
    charged to the seller, the rest to the seller's available balance."""
    _require_id("order_id", order_id)
    _require_not_negative("commission_paise", commission_paise)
    _require_not_negative("label_fee_paise", label_fee_paise)
    _require_key(idempotency_key)
    params = {"order_id": order_id, "commission_paise": commission_paise,
              "label_fee_paise": label_fee_paise}
    hold = _locked_hold(s, order_id)

    def perform():
        held_account = _held_account(s, hold)
        held = _require_open(s, hold, held_account)
        if commission_paise + label_fee_paise > held:
            raise ValidationFailed(
                f"commission and label fee ({commission_paise + label_fee_paise} paise) "
                f"exceed the {held} paise held", code="release_exceeds_held")
        return _post_settlement(s, hold, held_account, TransactionKind.RELEASE,
                                HoldState.RELEASED, refund_paise=0, release_paise=held,
                                commission_paise=commission_paise,
                                label_fee_paise=label_fee_paise), None

    return idempotency.run_once(s, idempotency_key, "release_to_seller", params, perform)


def refund_buyer(s: Session, order_id: int, amount_paise: int, idempotency_key: str,
                 reason: str) -> LedgerTransaction:
    """Give back part or all of what is held; refunding the last paisa closes the hold."""
    _require_id("order_id", order_id)
    _require_positive("amount_paise", amount_paise)
    _require_key(idempotency_key)
    _require_text("reason", reason)
    params = {"order_id": order_id, "amount_paise": amount_paise, "reason": reason}
    hold = _locked_hold(s, order_id)

    def perform():
        held_account = _held_account(s, hold)
        held = _require_open(s, hold, held_account)
        if amount_paise > held:
            raise ValidationFailed(f"cannot refund {amount_paise} paise: only {held} held",
                                   code="refund_exceeds_held",
                                   fields={"amount_paise": f"at most {held}"})
        cash = get_or_create_account(s, AccountKind.PLATFORM_CASH)
        transaction = post(s, TransactionKind.REFUND,
                           [debit(held_account, amount_paise), credit(cash, amount_paise)],
                           order_id=order_id, member_id=hold.buyer_id, memo=reason)
        if amount_paise == held:
            _close_hold(hold, HoldState.REFUNDED)
        return transaction, None

    return idempotency.run_once(s, idempotency_key, "refund_buyer", params, perform)


def split(s: Session, order_id: int, refund_paise: int, release_paise: int,
          commission_paise: int, idempotency_key: str, label_fee_paise: int = 0,
          ) -> LedgerTransaction:
    """Close a case with a partial refund: `refund_paise` back to the buyer and
    `release_paise` to the seller (less commission and label fee), in one transaction.
    The two parts must add up exactly to what is held."""
    _require_id("order_id", order_id)
    _require_positive("refund_paise", refund_paise)
    _require_positive("release_paise", release_paise)
    _require_not_negative("commission_paise", commission_paise)
    _require_not_negative("label_fee_paise", label_fee_paise)
    _require_key(idempotency_key)
    params = {"order_id": order_id, "refund_paise": refund_paise,
              "release_paise": release_paise, "commission_paise": commission_paise,
              "label_fee_paise": label_fee_paise}
    hold = _locked_hold(s, order_id)

    def perform():
        held_account = _held_account(s, hold)
        held = _require_open(s, hold, held_account)
        if refund_paise + release_paise != held:
            raise ValidationFailed(
                f"refund {refund_paise} + release {release_paise} paise must equal the "
                f"{held} paise held", code="split_must_equal_held")
        if commission_paise + label_fee_paise > release_paise:
            raise ValidationFailed("commission and label fee exceed the released part",
                                   code="release_exceeds_held")
        return _post_settlement(s, hold, held_account, TransactionKind.SPLIT, HoldState.SPLIT,
                                refund_paise=refund_paise, release_paise=release_paise,
                                commission_paise=commission_paise,
                                label_fee_paise=label_fee_paise), None

    return idempotency.run_once(s, idempotency_key, "split", params, perform)


def recover_chargeback(s: Session, order_id: int, amount_paise: int, idempotency_key: str,
                       ) -> LedgerTransaction:
    """Take a card chargeback on a released order back from the seller's balance, into
    the negative if need be (the next payouts make it good)."""
    _require_id("order_id", order_id)
    _require_positive("amount_paise", amount_paise)
    _require_key(idempotency_key)
    params = {"order_id": order_id, "amount_paise": amount_paise}
    hold = _locked_hold(s, order_id)

    def perform():
        if hold.state not in (HoldState.RELEASED, HoldState.SPLIT):
            raise Conflict("a chargeback is recovered only once the seller has been paid; "
                           "refund held funds instead", code="not_released")
        money = order_money(s, order_id)
        recoverable = (money["captured_paise"] - money["refunded_paise"]
                       - chargebacks_recovered(s, order_id))
        if amount_paise > recoverable:
            raise ValidationFailed(
                f"cannot recover {amount_paise} paise: the buyer paid {recoverable} paise "
                "not yet refunded or recovered", code="chargeback_exceeds_paid")
        seller = get_or_create_account(s, AccountKind.SELLER_AVAILABLE,
                                       member_id=hold.seller_id)
        recovery = get_or_create_account(s, AccountKind.CHARGEBACK_RECOVERY)
        transaction = post(s, TransactionKind.CHARGEBACK_RECOVERY,
                           [debit(seller, amount_paise), credit(recovery, amount_paise)],
                           order_id=order_id, member_id=hold.seller_id)
        return transaction, None

    return idempotency.run_once(s, idempotency_key, "recover_chargeback", params, perform)


# ---------------------------------------------------------------- payouts

def start_payout(s: Session, member_id: int, idempotency_key: str) -> Payout:
    """Send the seller's whole available balance to the payout provider.  A zero or
    negative balance is never paid out."""
    _require_id("member_id", member_id)
    _require_key(idempotency_key)
    available = locked_account(s, AccountKind.SELLER_AVAILABLE, member_id=member_id)

    def perform():
        amount = balance(s, available)
        if amount <= 0:
            raise Conflict(f"nothing to pay out: the available balance is {amount} paise",
                           code="nothing_to_pay_out")
        in_flight = get_or_create_account(s, AccountKind.SELLER_PAYOUT_IN_FLIGHT,
                                          member_id=member_id)
        transaction = post(s, TransactionKind.PAYOUT_START,
                           [debit(available, amount), credit(in_flight, amount)],
                           member_id=member_id)
        payout = Payout(member_id=member_id, amount_paise=amount, state=PayoutState.PENDING,
                        start_transaction_id=transaction.id)
        s.add(payout)
        s.flush()
        return transaction, payout

    return idempotency.run_once(s, idempotency_key, "start_payout",
                                {"member_id": member_id}, perform)


def complete_payout(s: Session, payout_id: int, idempotency_key: str,
                    provider_ref: str) -> Payout:
    """The provider confirmed the transfer: the money has left the platform."""
    _require_id("payout_id", payout_id)
    _require_key(idempotency_key)
    _require_text("provider_ref", provider_ref)
    payout = _locked_payout(s, payout_id)

    def perform():
        transaction = _settle_payout(s, payout, PayoutState.PAID, TransactionKind.PAYOUT_PAID,
                                     get_or_create_account(s, AccountKind.PLATFORM_CASH),
                                     memo=provider_ref)
        payout.provider_ref = provider_ref
        s.flush()
        return transaction, payout

    return idempotency.run_once(s, idempotency_key, "complete_payout",
                                {"payout_id": payout_id, "provider_ref": provider_ref},
                                perform)


def fail_payout(s: Session, payout_id: int, idempotency_key: str, reason: str) -> Payout:
    """The provider could not pay: the money goes back to the available balance."""
    _require_id("payout_id", payout_id)
    _require_key(idempotency_key)
    _require_text("reason", reason)
    payout = _locked_payout(s, payout_id)

    def perform():
        available = get_or_create_account(s, AccountKind.SELLER_AVAILABLE,
                                          member_id=payout.member_id)
        transaction = _settle_payout(s, payout, PayoutState.FAILED,
                                     TransactionKind.PAYOUT_FAILED, available, memo=reason)
        payout.failure_reason = reason
        s.flush()
        return transaction, payout

    return idempotency.run_once(s, idempotency_key, "fail_payout",
                                {"payout_id": payout_id, "reason": reason}, perform)


# ---------------------------------------------------------------- helpers

def _settle_payout(s: Session, payout: Payout, state: PayoutState, kind: TransactionKind,
                   destination: Account, *, memo: str) -> LedgerTransaction:
    """Move the payout's in-flight money to where it ended: out of the platform's cash
    when paid, back to the seller's available balance when the transfer failed."""
    _move_payout(payout, state)
    in_flight = get_or_create_account(s, AccountKind.SELLER_PAYOUT_IN_FLIGHT,
                                      member_id=payout.member_id)
    transaction = post(s, kind, [debit(in_flight, payout.amount_paise),
                                 credit(destination, payout.amount_paise)],
                       member_id=payout.member_id, memo=memo)
    payout.settle_transaction_id = transaction.id
    return transaction


def _post_settlement(s: Session, hold: Hold, held_account: Account, kind: TransactionKind,
                     closes_as: HoldState, *, refund_paise: int, release_paise: int,
                     commission_paise: int, label_fee_paise: int) -> LedgerTransaction:
    """Empty the held funds in one balanced transaction and close the hold: the refund
    back through platform cash, the released part to the seller less the commission
    and the label fee (zero legs are dropped by `post`).  Callers have checked that the
    parts add up to what is held."""
    cash = get_or_create_account(s, AccountKind.PLATFORM_CASH)
    seller = get_or_create_account(s, AccountKind.SELLER_AVAILABLE, member_id=hold.seller_id)
    commission = get_or_create_account(s, AccountKind.PLATFORM_COMMISSION)
    label_fees = get_or_create_account(s, AccountKind.SHIPPING_LABEL_FEES)
    legs = [debit(held_account, refund_paise + release_paise),
            credit(cash, refund_paise),
            credit(seller, release_paise - commission_paise - label_fee_paise),
            credit(commission, commission_paise),
            credit(label_fees, label_fee_paise)]
    transaction = post(s, kind, legs, order_id=hold.order_id, member_id=hold.seller_id)
    _close_hold(hold, closes_as)
    return transaction


def _locked_hold(s: Session, order_id: int) -> Hold:
    hold = s.execute(select(Hold).where(Hold.order_id == order_id)
                     .with_for_update(key_share=True)
                     .execution_options(populate_existing=True)).scalar_one_or_none()
    if hold is None:
        raise NotFound(f"no payment was captured for order {order_id}",
                       code="order_not_captured")
    return hold


def _locked_payout(s: Session, payout_id: int) -> Payout:
    payout = s.execute(select(Payout).where(Payout.id == payout_id)
                       .with_for_update(key_share=True)
                       .execution_options(populate_existing=True)).scalar_one_or_none()
    if payout is None:
        raise NotFound(f"no payout {payout_id}", code="payout_not_found")
    return payout


def _held_account(s: Session, hold: Hold) -> Account:
    return get_or_create_account(s, AccountKind.ORDER_HELD, order_id=hold.order_id)


def _require_open(s: Session, hold: Hold, held_account: Account) -> int:
    """The paise still held for an open hold; a closed one refuses to move money."""
    if hold.state != HoldState.HELD:
        raise Conflict(f"the funds of order {hold.order_id} are no longer held "
                       f"({hold.state})", code="funds_not_held")
    return balance(s, held_account)


def _close_hold(hold: Hold, to: HoldState) -> None:
    if to not in HOLD_TRANSITIONS.get(HoldState(hold.state), set()):
        raise Conflict(f"held funds cannot go from {hold.state} to {to}",
                       code="illegal_transition")
    hold.state = to
    hold.closed_at = clock.now()


def _move_payout(payout: Payout, to: PayoutState) -> None:
    if to not in PAYOUT_TRANSITIONS.get(PayoutState(payout.state), set()):
        raise Conflict(f"payout {payout.id} is {payout.state}; it cannot become {to}",
                       code="payout_not_pending")
    payout.state = to
    payout.settled_at = clock.now()


def _is_whole(value: Any) -> bool:
    # bool is an int subclass; True paise is a bug, not one paisa.
    return type(value) is int


def _require_id(name: str, value: Any) -> None:
    if not _is_whole(value) or value <= 0:
        raise ValidationFailed(f"{name} must be a positive integer id", code="bad_id",
                               fields={name: "positive integer"})


def _require_positive(name: str, value: Any) -> None:
    if not _is_whole(value) or value <= 0:
        raise ValidationFailed(f"{name} must be a positive whole number of paise",
                               code="bad_amount", fields={name: "positive integer paise"})


def _require_not_negative(name: str, value: Any) -> None:
    if not _is_whole(value) or value < 0:
        raise ValidationFailed(f"{name} must be a whole number of paise, zero or more",
                               code="bad_amount", fields={name: "integer paise >= 0"})


def _require_key(value: Any) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_KEY_LENGTH:
        raise ValidationFailed(f"idempotency_key must be 1 to {MAX_KEY_LENGTH} characters",
                               code="bad_idempotency_key",
                               fields={"idempotency_key": "required"})


def _require_text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT_LENGTH:
        raise ValidationFailed(f"{name} must be 1 to {MAX_TEXT_LENGTH} characters",
                               code="bad_text", fields={name: "required"})
