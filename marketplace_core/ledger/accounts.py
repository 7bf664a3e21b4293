"""Finding, creating and summing accounts."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation.errors import ValidationFailed
from marketplace_core.ledger.models import (
    CURRENCY,
    Account,
    AccountKind,
    Entry,
    Scope,
    Side,
    account_key,
    paise_sum,
)


def get_or_create_account(s: Session, kind: AccountKind, *, member_id: int | None = None,
                          order_id: int | None = None) -> Account:
    """The account of `kind` for the given owner, created on first use.

    Two transactions may try to create the same account at once: the unique key lets
    one win, and the loser re-reads the winner's row after rolling back only its
    savepoint, so the caller's transaction carries on.
    """
    key = _checked_key(kind, member_id, order_id)
    found = _find_by_key(s, key)
    if found is not None:
        return found
    try:
        with s.begin_nested():
            account = Account(key=key, kind=str(kind), member_id=member_id,
                              order_id=order_id, currency=CURRENCY)
            s.add(account)
            s.flush()
    except IntegrityError:
        found = _find_by_key(s, key)
        if found is None:
            raise
        return found
    return account


def find_account(s: Session, kind: AccountKind, *, member_id: int | None = None,
                 order_id: int | None = None) -> Account | None:
    return _find_by_key(s, _checked_key(kind, member_id, order_id))


def locked_account(s: Session, kind: AccountKind, *, member_id: int | None = None,
                   order_id: int | None = None) -> Account:
    """The account, row-locked until the transaction ends (PostgreSQL), so that a
    read-check-move on its balance cannot interleave with another one."""
    account = get_or_create_account(s, kind, member_id=member_id, order_id=order_id)
    return s.execute(select(Account).where(Account.id == account.id)
                     .with_for_update(key_share=True)
                     .execution_options(populate_existing=True)).scalar_one()


def balance(s: Session, account: Account | None) -> int:
    """The account's balance on its normal side, in paise (0 for an unused account)."""
    if account is None:
        return 0
    signed = signed_sum(s, account.id)
    return signed if account.account_kind.normal_side is Side.DEBIT else -signed


def balance_of(s: Session, kind: AccountKind, *, member_id: int | None = None,
               order_id: int | None = None) -> int:
    return balance(s, find_account(s, kind, member_id=member_id, order_id=order_id))


def signed_sum(s: Session, account_id: int) -> int:
    """Debits minus credits."""
    return s.execute(select(paise_sum(Entry.amount_paise))
                     .where(Entry.account_id == account_id)).scalar_one()


def _checked_key(kind: AccountKind, member_id: int | None, order_id: int | None) -> str:
    kind = AccountKind(kind)
    wants_member = kind.scope is Scope.MEMBER
    wants_order = kind.scope is Scope.ORDER
    if (member_id is not None) != wants_member or (order_id is not None) != wants_order:
        raise ValidationFailed(f"a {kind} account belongs to the {kind.scope}: "
                               f"member_id={member_id}, order_id={order_id} do not fit",
                               code="bad_account_key")
    return account_key(kind, member_id, order_id)


def _find_by_key(s: Session, key: str) -> Account | None:
    return s.execute(select(Account).where(Account.key == key)).scalar_one_or_none()
