"""Paying sellers: released earnings leave for the seller's bank account on a schedule.

Every PAYOUT_INTERVAL_HOURS a run starts one payout per seller with a positive
available balance and a payout account (the ledger moves the balance to "in flight"),
then a job per payout asks the bank to transfer it: success settles it, failure returns
the money to the available balance.  Keys derived from (seller, schedule slot) and from
the payout make every step safe to repeat.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation import clock
from foundation.config import current as settings
from foundation.errors import Conflict, ValidationFailed
from marketplace_core.ledger import services as ledger
from marketplace_core.ledger.models import (
    Account,
    AccountKind,
    Entry,
    Payout,
    PayoutState,
    paise_sum,
)
from marketplace_core.members.models import Member
from marketplace_core.orders import provider_store
from marketplace_core.orders.models import Order, PayoutAccount
from marketplace_core.outbox import services as outbox
from marketplace_core.outbox.models import EffectKind, OutboxEffect

ACCOUNT_NUMBER_RE = re.compile(r"[0-9]{9,18}")
IFSC_RE = re.compile(r"[A-Z]{4}0[A-Z0-9]{6}")


@dataclass(frozen=True)
class TransferResult:
    ok: bool
    bank_ref: str | None = None
    reason: str | None = None


class Bank(Protocol):
    def transfer(self, *, account_number: str, ifsc: str, amount_paise: int,
                 reference: str) -> TransferResult:
        """Send money to an account; the same `reference` is one transfer."""


BANK_STORE = "bank.sqlite3"
BANK_SCHEMA = provider_store.REQUESTS_TABLE + """
CREATE TABLE IF NOT EXISTS transfers (
    reference TEXT PRIMARY KEY, account TEXT NOT NULL, ifsc TEXT NOT NULL,
    amount_paise INTEGER NOT NULL, status TEXT NOT NULL, bank_ref TEXT, reason TEXT,
    at TEXT NOT NULL);
"""


@dataclass
class SimulatedBank:
    """Accepts every transfer except to account numbers matching
    PAYOUT_FAILING_ACCOUNT_PATTERN, which it refuses (a closed or wrong account).  It keeps
    every answer in its own store (`provider_store`), so asking again with a reference
    gives the first answer and moves the money once, and it suffers PROVIDER_FAULTS."""

    def transfer(self, *, account_number: str, ifsc: str, amount_paise: int,
                 reference: str) -> TransferResult:
        fault = provider_store.draw_fault()
        provider_store.before_acting(fault, "the bank")
        refused = re.fullmatch(settings().PAYOUT_FAILING_ACCOUNT_PATTERN, account_number)
        digest = hashlib.sha256(reference.encode()).hexdigest()[:16]
        with _store() as store:
            provider_store.count_request(store, "transfer", reference)
            store.execute(
                "INSERT OR IGNORE INTO transfers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (reference, account_number, ifsc, amount_paise,
                 "refused" if refused else "accepted",
                 None if refused else f"sim_utr_{digest}",
                 "account closed or invalid" if refused else None,
                 provider_store.now_text()))
            status, bank_ref, reason = store.execute(
                "SELECT status, bank_ref, reason FROM transfers WHERE reference = ?",
                (reference,)).fetchone()
        provider_store.after_acting(fault, "the bank")
        return TransferResult(ok=status == "accepted", bank_ref=bank_ref, reason=reason)

    def received_transfers(self) -> list[dict]:
        """The transfers the bank made (money moved), one per reference."""
        return _rows("SELECT reference, amount_paise, account, bank_ref, at FROM transfers "
                     "WHERE status = 'accepted' ORDER BY at, reference")

    def refused_transfers(self) -> list[dict]:
        return _rows("SELECT reference, amount_paise, account, reason, at FROM transfers "
                     "WHERE status = 'refused' ORDER BY at, reference")

    def requests_sent(self, operation: str = "transfer") -> dict[str, int]:
        return {row["reference"]: row["sent"] for row in _rows(
            "SELECT reference, sent FROM requests WHERE operation = ?", (operation,))}


def _store():
    return provider_store.connect(BANK_STORE, BANK_SCHEMA)


def _rows(query: str, params: tuple = ()) -> list[dict]:
    return [dict(row) for row in provider_store.read(BANK_STORE, BANK_SCHEMA, query, params)]


_installed: dict[str, Bank] = {"bank": SimulatedBank()}


def bank() -> Bank:
    return _installed["bank"]


# --- payout accounts and balances ----------------------------------------------------

def set_payout_account(s: Session, member: Member, *, account_number: str,
                       ifsc: str) -> PayoutAccount:
    account_number = (account_number or "").strip()
    ifsc = (ifsc or "").strip().upper()
    problems = {}
    if not ACCOUNT_NUMBER_RE.fullmatch(account_number):
        problems["account_number"] = "9 to 18 digits"
    if not IFSC_RE.fullmatch(ifsc):
        problems["ifsc"] = "an IFSC such as HDFC0001234"
    if problems:
        raise ValidationFailed("These bank details are not valid.", fields=problems)
    account = s.get(PayoutAccount, member.id)
    if account is None:
        account = PayoutAccount(member_id=member.id)
        s.add(account)
    account.account_number = account_number
    account.ifsc = ifsc
    account.updated_at = clock.now()
    s.flush()
    return account


def payout_account(s: Session, member_id: int) -> PayoutAccount | None:
    return s.get(PayoutAccount, member_id)


def balance_for(s: Session, member: Member) -> dict[str, int]:
    """What the seller has: available to pay out, still held in open orders (before
    commission), and on its way to the bank."""
    return {"available_paise": ledger.seller_balance(s, member.id),
            "pending_paise": _held_in_orders(s, member.id),
            "in_flight_paise": ledger.payout_in_flight(s, member.id)}


def _held_in_orders(s: Session, seller_id: int) -> int:
    # Held funds are credit-normal: the balance is credits (negative amounts) negated.
    seller_orders = select(Order.id).where(Order.seller_id == seller_id)
    return int(s.execute(
        select(-paise_sum(Entry.amount_paise))
        .join(Account, Entry.account_id == Account.id)
        .where(Account.kind == str(AccountKind.ORDER_HELD),
               Account.order_id.in_(seller_orders))).scalar_one())


def list_payouts(s: Session, member: Member, *, before_id: int | None = None,
                 limit: int = 20) -> tuple[list[Payout], int | None]:
    query = (select(Payout).where(Payout.member_id == member.id).order_by(Payout.id.desc())
             .limit(limit + 1))
    if before_id is not None:
        query = query.where(Payout.id < before_id)
    rows = list(s.execute(query).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)


# --- the payout run ------------------------------------------------------------------

def payout_slot(at: datetime) -> int:
    """The schedule period `at` falls in; one payout per seller per slot."""
    return int(at.timestamp()) // (settings().PAYOUT_INTERVAL_HOURS * 3600)


def start_due_payouts(s: Session) -> list[int]:
    """Start this slot's payout for every seller owed money who has a payout account;
    returns the ids of payouts waiting for the bank (repeating a run starts nothing)."""
    slot = payout_slot(clock.now())
    started = []
    for member_id in _members_owed(s):
        try:
            with s.begin_nested():
                payout = ledger.start_payout(s, member_id, f"payout:{member_id}:{slot}")
        except Conflict:
            continue  # the balance was spent meanwhile (a chargeback): nothing to pay
        if payout.state == PayoutState.PENDING:
            record_transfer(s, payout)
            started.append(payout.id)
    return started


def record_unrecorded_transfers(s: Session, limit: int = 500) -> int:
    """Give every payout still in flight without a bank effect its effect (payouts started
    before the outbox existed); the reference is the one the bank always knew them by,
    so one the bank already paid is answered, not paid again."""
    effects = select(OutboxEffect.payout_id).where(OutboxEffect.payout_id.is_not(None))
    pending = s.execute(select(Payout).where(Payout.state == PayoutState.PENDING,
                                             Payout.id.not_in(effects))
                        .order_by(Payout.id).limit(limit)).scalars().all()
    for payout in pending:
        record_transfer(s, payout)
    return len(pending)


def payout_reference(payout_id: int) -> str:
    return f"payout-{payout_id}"


def record_transfer(s: Session, payout: Payout) -> None:
    """The bank transfer a started payout owes, as an outbox effect in the same
    transaction (the account as it is now: what the seller asked to be paid into)."""
    account = payout_account(s, payout.member_id)
    payload = {"amount_paise": payout.amount_paise,
               "account_number": account.account_number if account else None,
               "ifsc": account.ifsc if account else None}
    outbox.record(s, EffectKind.BANK_PAYOUT, payout_reference(payout.id), payload,
                  payout_id=payout.id, member_id=payout.member_id)


def _members_owed(s: Session) -> list[int]:
    positive = (select(Account.member_id)
                .join(Entry, Entry.account_id == Account.id)
                .where(Account.kind == str(AccountKind.SELLER_AVAILABLE))
                .group_by(Account.member_id)
                .having(-paise_sum(Entry.amount_paise) > 0))
    return list(s.execute(select(PayoutAccount.member_id)
                          .where(PayoutAccount.member_id.in_(positive))
                          .order_by(PayoutAccount.member_id)).scalars())


def transfer_and_settle(s: Session, payout_id: int, reference: str,
                        payload: dict) -> TransferResult:
    """Ask the bank for a payout's transfer and settle the payout by its answer: paid
    (in flight -> gone) or refused (in flight -> available again).  Raises
    ProviderUnavailable when the bank did not answer; the outbox asks again later."""
    payout = ledger.get_payout(s, payout_id)
    if payload.get("account_number") is None:
        result = TransferResult(ok=False, reason="no payout account")
    else:
        result = bank().transfer(account_number=payload["account_number"],
                                 ifsc=payload["ifsc"], amount_paise=payload["amount_paise"],
                                 reference=reference)
    if payout.state == PayoutState.PENDING and result.ok:
        ledger.complete_payout(s, payout.id, f"payout:{payout.id}:paid", result.bank_ref)
    elif payout.state == PayoutState.PENDING:
        ledger.fail_payout(s, payout.id, f"payout:{payout.id}:failed",
                           result.reason or "refused by the bank")
    return result
