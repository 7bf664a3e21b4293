"""Delivering an effect: one call to the provider or the bank with the effect's
reference, and the answer recorded on the row.

A failure (no answer, a 5xx) counts a try and schedules the next one with exponential
backoff; after OUTBOX_MAX_ATTEMPTS tries the effect is dead and waits for staff.  An
answer the provider gave but that was lost on the way is found again on the next try:
the provider answers a reference it knows with its first answer.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from foundation import clock
from foundation.config import current as settings
from marketplace_core.ledger import services as ledger
from marketplace_core.orders import payments, payouts
from marketplace_core.orders.provider_store import ProviderUnavailable
from marketplace_core.outbox import services
from marketplace_core.outbox.models import EffectKind, EffectState, OutboxEffect

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    ref: str | None
    status: str


def _refund(s: Session, effect: OutboxEffect) -> Answer:
    payload = effect.payload
    refund_id = payments.provider().refund(provider_ref=payload["provider_ref"],
                                           amount_paise=payload["amount_paise"],
                                           reference=effect.reference)
    return Answer(ref=refund_id, status="succeeded")


def _void(s: Session, effect: OutboxEffect) -> Answer:
    void_id = payments.provider().void(provider_ref=effect.payload["provider_ref"],
                                       reference=effect.reference)
    return Answer(ref=void_id, status="voided")


def _payout(s: Session, effect: OutboxEffect) -> Answer:
    result = payouts.transfer_and_settle(s, effect.payout_id, effect.reference,
                                         effect.payload)
    if result.ok:
        return Answer(ref=result.bank_ref, status="paid")
    return Answer(ref=None, status="refused")


DELIVERERS: dict[str, Callable[[Session, OutboxEffect], Answer]] = {
    EffectKind.CARD_REFUND: _refund,
    EffectKind.CARD_VOID: _void,
    EffectKind.BANK_PAYOUT: _payout,
}


def deliver(s: Session, effect_id: int) -> str:
    """Deliver one effect if it is pending and due; returns its state afterwards.  A
    delivered or dead effect, or one whose next try is later, is left alone (a second
    job for it is a duplicate)."""
    effect = s.get(OutboxEffect, effect_id)
    if effect is None:
        return "unknown"  # recorded in a transaction that rolled back
    effect = services.locked(s, effect_id)
    if effect.state != EffectState.PENDING:
        return effect.state
    if effect.next_attempt_at > clock.now():
        return "not_due"
    try:
        # Nothing is written before the call, so no database lock is held while the
        # provider takes its time; what the answer writes (a payout's settlement) is
        # undone with the savepoint if anything after the call fails.
        with s.begin_nested():
            answer = DELIVERERS[effect.kind](s, effect)
    except ProviderUnavailable as exc:
        _failed(s, effect, exc)
        return effect.state
    except Exception as exc:  # noqa: BLE001 - a bug must end dead and shown, not loop
        log.exception("delivering effect %s failed", effect.id)
        _failed(s, effect, exc)
        return effect.state
    effect.attempts += 1
    effect.state = EffectState.DELIVERED
    effect.provider_answer_ref = answer.ref
    effect.provider_status = answer.status
    effect.delivered_at = clock.now()
    effect.last_error = None
    s.flush()
    return effect.state


def _failed(s: Session, effect: OutboxEffect, exc: Exception) -> None:
    effect.attempts += 1
    effect.last_error = services.short_error(exc)
    if effect.attempts >= settings().OUTBOX_MAX_ATTEMPTS:
        effect.state = EffectState.DEAD
        log.error("effect %s (%s) is dead after %d tries: %s", effect.id, effect.reference,
                  effect.attempts, effect.last_error)
        s.flush()
        return
    effect.next_attempt_at = clock.now() + services.retry_delay(effect.attempts)
    s.flush()
    log.warning("effect %s (%s) failed try %d: %s; next at %s", effect.id, effect.reference,
                effect.attempts, effect.last_error, effect.next_attempt_at.isoformat())
    services.arm_after_commit(s, effect, at=effect.next_attempt_at)


def send_payout(s: Session, payout_id: int) -> str:
    """Deliver a started payout's bank transfer now, in this unit of work (the demo and
    tests); returns the payout's state."""
    effect = services.by_reference(s, payouts.payout_reference(payout_id))
    if effect is None:
        payouts.record_transfer(s, ledger.get_payout(s, payout_id))
        effect = services.by_reference(s, payouts.payout_reference(payout_id))
    deliver(s, effect.id)
    return ledger.get_payout(s, payout_id).state
