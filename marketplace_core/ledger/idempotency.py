"""Idempotency keys (Stripe's rule): the same key with the same parameters returns the
first result without moving money again; the same key with other parameters is refused.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation.errors import Conflict
from marketplace_core.ledger.models import IdempotencyKey, LedgerTransaction, Payout


def run_once(s: Session, key: str, operation: str, params: dict[str, Any],
             perform: Callable[[], tuple[LedgerTransaction, Payout | None]],
             ) -> LedgerTransaction | Payout:
    """Run `perform` unless `key` was used before; remember its result under `key`.

    Callers take their row locks first, so a concurrent request with the same key has
    committed (and is found here) or has not started.  When two requests race to store
    the same key anyway, the unique constraint refuses the second; its savepoint, with
    all the money it moved, is rolled back and the first result is returned instead.
    """
    fingerprint = params_hash(operation, params)
    earlier = _find(s, key)
    if earlier is not None:
        return _replay(s, earlier, fingerprint)
    try:
        with s.begin_nested():
            transaction, payout = perform()
            s.add(IdempotencyKey(key=key, operation=operation, params_hash=fingerprint,
                                 transaction_id=transaction.id,
                                 payout_id=payout.id if payout else None))
            s.flush()
    except IntegrityError:
        earlier = _find(s, key)
        if earlier is None:
            raise
        return _replay(s, earlier, fingerprint)
    return payout if payout is not None else transaction


def params_hash(operation: str, params: dict[str, Any]) -> str:
    canonical = json.dumps({"operation": operation, "params": params}, sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _find(s: Session, key: str) -> IdempotencyKey | None:
    return s.execute(select(IdempotencyKey).where(IdempotencyKey.key == key)
                     ).scalar_one_or_none()


def _replay(s: Session, earlier: IdempotencyKey, fingerprint: str,
            ) -> LedgerTransaction | Payout:
    if earlier.params_hash != fingerprint:
        raise Conflict("this idempotency key was already used for a different request",
                       code="idempotency_key_reused")
    if earlier.payout_id is not None:
        return s.get(Payout, earlier.payout_id)
    return s.get(LedgerTransaction, earlier.transaction_id)
