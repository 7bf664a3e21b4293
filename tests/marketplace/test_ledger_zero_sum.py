"""The database itself refuses a ledger transaction whose entries do not sum to zero,
at commit (a deferred constraint trigger on PostgreSQL, a trigger-kept running sum with
a deferred foreign key on SQLite: foundation.migrations.require_zero_sum), while every
posting the ledger writes still commits."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from foundation import db
from marketplace_core.ledger.models import Account, LedgerTransaction
from tests.marketplace.test_ledger import (
    PRICE,
    SELLER,
    assert_books_sound,
    call,
    capture,
    ledger,
    new_key,
    released_order,
)


def account_ids() -> tuple[int, int]:
    with db.unit_of_work() as s:
        ids = s.scalars(select(Account.id).order_by(Account.id).limit(2)).all()
    assert len(ids) == 2
    return ids[0], ids[1]


def transactions() -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count(LedgerTransaction.id)))


def insert_by_sql(database_url: str, amounts: list[int], transaction_id: int | None = None,
                  *, one_statement: bool = False) -> None:
    """A ledger transaction (a new one, or more entries for `transaction_id`) written by
    plain SQL in one database transaction, the way no ledger code writes it."""
    debit_account, credit_account = account_ids()
    with db.engine_for(database_url).begin() as connection:
        if transaction_id is None:
            transaction_id = connection.execute(text(
                "INSERT INTO ledger_transactions (kind, memo, created_at) "
                "VALUES ('capture', 'by hand', CURRENT_TIMESTAMP) RETURNING id")).scalar_one()
        rows = [{"t": transaction_id, "a": debit_account if amount > 0 else credit_account,
                 "p": amount} for amount in amounts]
        if one_statement:
            values = ", ".join(f"(:t{i}, :a{i}, :p{i})" for i in range(len(rows)))
            params = {f"{key}{i}": value for i, row in enumerate(rows)
                      for key, value in row.items()}
            connection.execute(text("INSERT INTO ledger_entries (transaction_id, account_id, "
                                    f"amount_paise) VALUES {values}"), params)
        else:
            for row in rows:
                connection.execute(text("INSERT INTO ledger_entries (transaction_id, "
                                        "account_id, amount_paise) VALUES (:t, :a, :p)"), row)


@pytest.mark.parametrize("one_statement", [False, True])
def test_an_unbalanced_transaction_written_by_sql_is_refused(app, database_url, one_statement):
    capture()
    before = transactions()
    with pytest.raises(IntegrityError):
        insert_by_sql(database_url, [5_000, -4_999], one_statement=one_statement)
    assert transactions() == before
    assert_books_sound()


def test_a_single_entry_transaction_written_by_sql_is_refused(app, database_url):
    capture()
    with pytest.raises(IntegrityError):
        insert_by_sql(database_url, [5_000])
    assert_books_sound()


def test_an_entry_added_later_to_a_balanced_transaction_is_refused(app, database_url):
    capture()
    with db.unit_of_work() as s:
        first = s.scalar(select(func.min(LedgerTransaction.id)))
    with pytest.raises(IntegrityError):
        insert_by_sql(database_url, [700], transaction_id=first)
    assert_books_sound()


@pytest.mark.parametrize("one_statement", [False, True])
def test_a_balanced_transaction_of_many_entries_written_by_sql_commits(app, database_url,
                                                                     one_statement):
    capture()
    before = transactions()
    insert_by_sql(database_url, [5_000, -1_000, -2_500, -1_500], one_statement=one_statement)
    assert transactions() == before + 1


def test_the_ledgers_own_postings_all_commit(app):
    capture(order_id=1)
    released_order(order_id=2)
    capture(order_id=3)
    call(ledger.refund_buyer, 3, PRICE // 2, new_key(), "partial")
    call(ledger.refund_buyer, 3, PRICE // 2, new_key(), "the rest")
    capture(order_id=4)
    call(ledger.split, 4, PRICE // 4, PRICE - PRICE // 4, 10_000, new_key(), label_fee_paise=5_000)
    call(ledger.recover_chargeback, 2, 30_000, new_key())
    payout = call(ledger.start_payout, SELLER, new_key())
    call(ledger.complete_payout, payout, new_key(), "bank-1")
    assert transactions() == 11
    assert_books_sound()
