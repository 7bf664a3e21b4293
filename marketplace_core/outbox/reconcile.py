"""Reconciliation: what the ledger says went out against what the provider and the bank
say they received, per refund and per payout.

- A ledger refund (a `refund` posting, or the refund part of a `split`: what it credits
  to platform cash) must be at the provider under its reference with its amount; a
  payout the ledger paid (or still has in flight) must be at the bank.  One not there is
  "in transit" while its effect is pending and younger than RECONCILE_GRACE_SECONDS, and
  "missing" after that, or when its effect is dead or was never recorded.
- A provider refund or bank transfer that no ledger posting explains (a second refund of
  one capture, a transfer for a payout the ledger returned to the seller) is "duplicated".
- A capture the provider made for which no order exists (the checkout failed after it)
  must have been voided; `void_orphan_captures` records the void for those older than the
  grace period.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from foundation import clock
from foundation.config import current as settings
from marketplace_core.ledger.models import (
    Account,
    AccountKind,
    Entry,
    Hold,
    LedgerTransaction,
    Payout,
    PayoutState,
    TransactionKind,
    paise_sum,
)
from marketplace_core.orders import payments, payouts
from marketplace_core.outbox import services
from marketplace_core.outbox.models import (
    EffectKind,
    EffectState,
    OutboxEffect,
    ReconciliationRun,
)

KEEP_RUNS = 200


def reconcile(s: Session) -> dict:
    now = clock.now()
    effects = {e.reference: e for e in s.execute(select(OutboxEffect)).scalars()}
    result = {
        "refunds": _refunds(s, now, effects),
        "payouts": _payouts(s, now, effects),
        "voids": _voids(s, now),
        "dead": [_effect_summary(e, now) for e in effects.values()
                 if e.state == EffectState.DEAD],
        "effects": _effects_by_state(effects.values()),
        "checked_at": now.isoformat(),
    }
    result["clean"] = is_clean(result)
    return result


def is_clean(result: dict) -> bool:
    return not any(result[part][problem] for part in ("refunds", "payouts")
                   for problem in ("missing", "duplicated"))


def run_and_store(s: Session) -> ReconciliationRun:
    void_orphan_captures(s)
    result = reconcile(s)
    run = ReconciliationRun(checked_at=clock.now(), clean=result["clean"], result=result)
    s.add(run)
    s.flush()
    _forget_old_runs(s)
    return run


def latest_run(s: Session) -> ReconciliationRun | None:
    return s.execute(select(ReconciliationRun).order_by(ReconciliationRun.id.desc())
                     .limit(1)).scalar_one_or_none()


def _forget_old_runs(s: Session) -> None:
    keep_from = s.execute(select(ReconciliationRun.id).order_by(ReconciliationRun.id.desc())
                          .offset(KEEP_RUNS).limit(1)).scalar_one_or_none()
    if keep_from is not None:
        s.execute(delete(ReconciliationRun).where(ReconciliationRun.id <= keep_from))


# --- refunds --------------------------------------------------------------------------

def ledger_refunds(s: Session) -> list[dict]:
    """Every refund the ledger posted: (reference, order, amount, when)."""
    rows = s.execute(
        select(LedgerTransaction.id, LedgerTransaction.order_id, LedgerTransaction.created_at,
               (-paise_sum(Entry.amount_paise)).label("amount"))
        .join(Entry, Entry.transaction_id == LedgerTransaction.id)
        .join(Account, Entry.account_id == Account.id)
        .where(LedgerTransaction.kind.in_([str(TransactionKind.REFUND),
                                           str(TransactionKind.SPLIT)]),
               Account.kind == str(AccountKind.PLATFORM_CASH))
        .group_by(LedgerTransaction.id, LedgerTransaction.order_id,
                  LedgerTransaction.created_at)
        .order_by(LedgerTransaction.id)).all()
    return [{"reference": payments.refund_reference(row.order_id, row.id),
             "order_id": row.order_id, "amount_paise": int(row.amount),
             "at": row.created_at} for row in rows if row.amount > 0]


def _refunds(s: Session, now: datetime, effects: dict[str, OutboxEffect]) -> dict:
    expected = ledger_refunds(s)
    received = {r["reference"]: r for r in payments.provider().received_refunds()}
    missing, in_transit, mismatched = [], [], []
    for item in expected:
        got = received.get(item["reference"])
        if got is None:
            _not_there(item, effects.get(item["reference"]), now, missing, in_transit)
        elif got["amount_paise"] != item["amount_paise"]:
            mismatched.append({**_item(item, now), "provider_amount_paise": got["amount_paise"]})
    explained = {item["reference"] for item in expected}
    duplicated = [{"reference": r["reference"], "amount_paise": r["amount_paise"],
                   "provider_ref": r["provider_ref"], "age_seconds": _age(r["at"], now),
                   "why": "no refund in the ledger has this reference"}
                  for r in received.values() if r["reference"] not in explained]
    sent = payments.provider().requests_sent("refund")
    return {"ledger": len(expected), "provider": len(received), "missing": missing,
            "duplicated": duplicated, "mismatched": mismatched, "in_transit": in_transit,
            "resent": sum(1 for count in sent.values() if count > 1)}


# --- payouts --------------------------------------------------------------------------

def _payouts(s: Session, now: datetime, effects: dict[str, OutboxEffect]) -> dict:
    rows = s.execute(select(Payout).order_by(Payout.id)).scalars().all()
    received = {t["reference"]: t for t in payouts.bank().received_transfers()}
    missing, in_transit, mismatched, duplicated = [], [], [], []
    went_out = 0
    for payout in rows:
        item = {"reference": payouts.payout_reference(payout.id), "payout_id": payout.id,
                "member_id": payout.member_id, "amount_paise": payout.amount_paise,
                "state": payout.state, "at": payout.created_at}
        got = received.get(item["reference"])
        if payout.state == PayoutState.FAILED:
            if got is not None:
                duplicated.append({**_item(item, now),
                                   "why": "the bank paid a payout the ledger returned"})
            continue
        went_out += 1
        if got is None:
            _not_there(item, effects.get(item["reference"]), now, missing, in_transit)
        elif got["amount_paise"] != payout.amount_paise:
            mismatched.append({**_item(item, now), "bank_amount_paise": got["amount_paise"]})
    known = {payouts.payout_reference(p.id) for p in rows}
    duplicated += [{"reference": t["reference"], "amount_paise": t["amount_paise"],
                    "age_seconds": _age(t["at"], now),
                    "why": "no payout in the ledger has this reference"}
                   for t in received.values() if t["reference"] not in known]
    sent = payouts.bank().requests_sent()
    return {"ledger": went_out, "provider": len(received), "missing": missing,
            "duplicated": duplicated, "mismatched": mismatched, "in_transit": in_transit,
            "resent": sum(1 for count in sent.values() if count > 1)}


# --- captures and voids ---------------------------------------------------------------

def orphan_captures(s: Session, now: datetime | None = None) -> list[dict]:
    """Captures the provider made that no order holds, older than the grace period (a
    checkout still in progress has not written its order yet)."""
    now = now or clock.now()
    held = set(s.execute(select(Hold.provider_ref)).scalars())
    voided = {v["provider_ref"] for v in payments.provider().received_voids()}
    grace = settings().RECONCILE_GRACE_SECONDS
    return [c for c in payments.provider().received_captures()
            if c["provider_ref"] not in held and c["provider_ref"] not in voided
            and _age(c["at"], now) >= grace]


def void_orphan_captures(s: Session) -> int:
    found = orphan_captures(s)
    for capture in found:
        services.record(s, EffectKind.CARD_VOID,
                        payments.void_reference(capture["provider_ref"]),
                        {"provider_ref": capture["provider_ref"],
                         "amount_paise": capture["amount_paise"]})
    return len(found)


def _voids(s: Session, now: datetime) -> dict:
    orphans = orphan_captures(s, now)
    return {"provider": len(payments.provider().received_voids()),
            "unvoided_orphan_captures": [{"provider_ref": c["provider_ref"],
                                          "amount_paise": c["amount_paise"],
                                          "age_seconds": _age(c["at"], now)}
                                         for c in orphans]}


# --- shared ---------------------------------------------------------------------------

def _not_there(item: dict, effect: OutboxEffect | None, now: datetime, missing: list,
               in_transit: list) -> None:
    """Sort a ledger item the other side lacks: still being delivered, or missing."""
    described = _item(item, now)
    described["effect_state"] = effect.state if effect else None
    described["effect_id"] = effect.id if effect else None
    young = now - item["at"] < timedelta(seconds=settings().RECONCILE_GRACE_SECONDS)
    if effect is not None and effect.state == EffectState.PENDING and young:
        in_transit.append(described)
    else:
        missing.append(described)


def _item(item: dict, now: datetime) -> dict:
    return {**{k: v for k, v in item.items() if k != "at"},
            "age_seconds": _age(item["at"], now)}


def _age(at: datetime | str, now: datetime) -> int:
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return max(int((now - at).total_seconds()), 0)


def _effect_summary(effect: OutboxEffect, now: datetime) -> dict:
    return {"id": effect.id, "kind": effect.kind, "reference": effect.reference,
            "attempts": effect.attempts, "last_error": effect.last_error,
            "order_id": effect.order_id, "payout_id": effect.payout_id,
            "age_seconds": _age(effect.created_at, now)}


def _effects_by_state(effects) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(EffectState, 0))
    for effect in effects:
        counts[effect.kind][effect.state] += 1
    return {kind: {str(state): n for state, n in by_state.items()}
            for kind, by_state in sorted(counts.items())}
