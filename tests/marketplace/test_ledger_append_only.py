"""Entries and transactions are written once: the database, the ORM and the posting
function each refuse anything else."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from foundation import db
from marketplace_core.ledger import services as ledger
from marketplace_core.ledger.accounts import get_or_create_account
from marketplace_core.ledger.models import (
    AccountKind,
    Entry,
    LedgerImmutable,
    LedgerTransaction,
    TransactionKind,
)
from marketplace_core.ledger.postings import (
    Leg,
    UnbalancedTransaction,
    credit,
    debit,
    post,
)


@pytest.fixture
def one_capture(app):
    with db.unit_of_work() as s:
        ledger.capture_payment(s, 1, 101, 202, 100_000, "k1", "pay_1")


def entry_amounts(database_url) -> list[int]:
    with db.engine_for(database_url).connect() as connection:
        return sorted(connection.execute(
            text("SELECT amount_paise FROM ledger_entries")).scalars())


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_entries SET amount_paise = amount_paise * 2",
    "DELETE FROM ledger_entries",
    "UPDATE ledger_transactions SET kind = 'refund'",
    "DELETE FROM ledger_transactions",
])
def test_the_database_refuses_to_change_the_books(one_capture, database_url, statement):
    engine = db.engine_for(database_url)
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as connection:
            connection.execute(text(statement))
    assert entry_amounts(database_url) == [-100_000, 100_000]


def test_the_orm_refuses_to_change_an_entry(one_capture):
    with pytest.raises(LedgerImmutable), db.unit_of_work() as s:
        s.execute(select(Entry)).scalars().first().amount_paise = 1
        s.flush()


def test_the_orm_refuses_to_delete_a_transaction(one_capture):
    with pytest.raises(LedgerImmutable), db.unit_of_work() as s:
        s.delete(s.execute(select(LedgerTransaction)).scalars().first())
        s.flush()


def test_the_database_refuses_a_zero_entry(one_capture, database_url):
    with pytest.raises(IntegrityError), db.engine_for(database_url).begin() as connection:
        connection.execute(text("INSERT INTO ledger_entries (transaction_id, account_id, "
                                "amount_paise) VALUES (1, 1, 0)"))


@pytest.mark.parametrize("amounts", [
    [100, -99],      # does not sum to zero
    [100],           # one leg
    [100, -100.0],   # not whole paise
    [0, 0],          # nothing moves
])
def test_only_balanced_transactions_are_posted(app, amounts):
    with db.unit_of_work() as s:
        cash = get_or_create_account(s, AccountKind.PLATFORM_CASH)
        commission = get_or_create_account(s, AccountKind.PLATFORM_COMMISSION)
        legs = [Leg(account, amount) for account, amount in zip([cash, commission], amounts,
                                                                 strict=False)]
        with pytest.raises(UnbalancedTransaction):
            post(s, TransactionKind.RELEASE, legs)
        assert s.execute(select(LedgerTransaction)).first() is None


def test_debit_and_credit_carry_opposite_signs(app):
    with db.unit_of_work() as s:
        cash = get_or_create_account(s, AccountKind.PLATFORM_CASH)
        revenue = get_or_create_account(s, AccountKind.PLATFORM_COMMISSION)
        transaction = post(s, TransactionKind.RELEASE, [debit(cash, 5), credit(revenue, 5)])
        assert [(e.account_id, e.amount_paise) for e in transaction.entries] == [
            (cash.id, 5), (revenue.id, -5)]
