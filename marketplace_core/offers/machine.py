"""The negotiation state machine: one function per transition, each guarded in the database.

    pending_seller --seller counters--> pending_buyer --buyer counters--> pending_seller ...
    pending_*      --the side whose turn it is accepts--> accepted (an order exists)
    pending_*      --the side whose turn it is declines--> declined
    pending_*      --the side that proposed takes it back--> withdrawn
    pending_*      --its 24 h pass--> expired          (timer job, and the periodic sweep)
    pending_*      --the item sells another way or leaves the site--> superseded

Every transition is one conditional UPDATE ... WHERE state IN (expected) [AND the
deadline has (not) passed], so that an acceptance and the expiry timer racing on the
same offer cannot both win: the loser matches no row and gets a Conflict (or, for the
timer, does nothing).  Each successful transition writes an OfferEvent.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation import clock, events, jobs
from foundation.config import current as settings
from foundation.errors import Conflict
from marketplace_core.offers.models import ACTIVE_STATES, Offer, OfferEvent, OfferState

# Named, not imported: marketplace_core.offers.tasks imports this module.
EXPIRE_OFFER = jobs.named("marketplace_core.offers.tasks.expire_offer")

BUYER, SELLER = "buyer", "seller"
# Whose move it is in each active state; the other side is the one that proposed.
TURN = {OfferState.PENDING_SELLER: SELLER, OfferState.PENDING_BUYER: BUYER}
# Whose turn it is after `side` proposes.
AWAITS = {BUYER: OfferState.PENDING_SELLER, SELLER: OfferState.PENDING_BUYER}
SYSTEM = "system"


def expiry_from(moment: datetime) -> datetime:
    return moment + timedelta(hours=settings().OFFER_EXPIRY_HOURS)


def open_offer(s: Session, offer: Offer, *, actor: str, reason: str) -> Offer:
    """Insert a new negotiation (its state and amounts already set) and arm its timer."""
    now = clock.now()
    offer.created_at = offer.updated_at = now
    offer.expires_at = expiry_from(now)
    s.add(offer)
    try:
        with s.begin_nested():
            s.flush()
    except IntegrityError:
        # The partial unique index: a concurrent request opened the same negotiation.
        raise Conflict("You already have an open offer here; answer or withdraw it first.",
                       code="offer_already_active") from None
    _log(s, offer, None, actor, reason)
    _arm_expiry_timer(offer)
    return offer


def counter(s: Session, offer: Offer, side: str, amount_paise: int, *, actor: str,
            payment_method: str | None = None) -> Offer:
    """`side` answers with a new amount; the turn passes to the other side."""
    _require_turn(offer, side)
    values: dict[str, Any] = {"amount_paise": amount_paise,
                              "expires_at": expiry_from(clock.now()),
                              f"{side}_amount_paise": amount_paise}
    if payment_method:
        values["payment_method"] = payment_method
    _transition(s, offer, AWAITS[side], expected=(offer.state,), actor=actor,
                reason=f"{side}_countered", values=values, before_deadline=True)
    _arm_expiry_timer(offer)
    events.emit(s, events.OfferCountered(offer_id=offer.id, by=side))
    return offer


def claim_acceptance(s: Session, offer: Offer, side: str, *, actor: str,
                     payment_method: str | None = None) -> Offer:
    """Mark the offer accepted before the order is placed; if placing the order fails,
    the caller's unit of work rolls this back with it."""
    _require_turn(offer, side)
    values = {"payment_method": payment_method} if payment_method else {}
    _transition(s, offer, OfferState.ACCEPTED, expected=(offer.state,), actor=actor,
                reason=f"{side}_accepted", values=values, before_deadline=True)
    return offer


def record_order(s: Session, offer: Offer, order_id: int) -> None:
    offer.order_id = order_id
    s.flush()
    events.emit(s, events.OfferAccepted(offer_id=offer.id, order_id=order_id))


def decline(s: Session, offer: Offer, side: str, *, actor: str) -> Offer:
    _require_turn(offer, side)
    _transition(s, offer, OfferState.DECLINED, expected=(offer.state,), actor=actor,
                reason=f"{side}_declined", before_deadline=True)
    events.emit(s, events.OfferClosed(offer_id=offer.id, state=offer.state))
    return offer


def withdraw(s: Session, offer: Offer, side: str, *, actor: str) -> Offer:
    """The side that made the proposal on the table takes it back."""
    if offer.state not in ACTIVE_STATES:
        raise _illegal(offer, "withdrawn")
    if TURN[OfferState(offer.state)] == side:
        raise Conflict("It is your turn: accept, decline or counter instead.",
                       code="not_your_proposal")
    _transition(s, offer, OfferState.WITHDRAWN, expected=(offer.state,), actor=actor,
                reason=f"{side}_withdrew", before_deadline=True)
    events.emit(s, events.OfferClosed(offer_id=offer.id, state=offer.state))
    return offer


def expire(s: Session, offer_id: int, state: str | None = None,
           deadline: datetime | None = None) -> bool:
    """Expire the offer if it is still waiting and its deadline has passed; a timer for
    an older state or deadline, or one that fires early, does nothing."""
    offer = s.get(Offer, offer_id)
    if offer is None or offer.state not in ACTIVE_STATES:
        return False
    if state is not None and offer.state != state:
        return False
    if deadline is not None and offer.expires_at != deadline:
        return False
    if offer.expires_at > clock.now():
        return False
    if not _try_transition(s, offer, OfferState.EXPIRED, expected=(offer.state,), actor=SYSTEM,
                           reason="expired", after_deadline=True):
        return False
    events.emit(s, events.OfferClosed(offer_id=offer.id, state=offer.state))
    return True


def supersede(s: Session, offers: Iterable[Offer], reason: str) -> int:
    """Close open offers whose item sold another way or left the site."""
    closed = 0
    for offer in offers:
        if offer.state in ACTIVE_STATES and _try_transition(
                s, offer, OfferState.SUPERSEDED, expected=ACTIVE_STATES, actor=SYSTEM,
                reason=reason):
            events.emit(s, events.OfferClosed(offer_id=offer.id, state=offer.state))
            closed += 1
    return closed


def overdue_offer_ids(s: Session, limit: int = 500) -> list[int]:
    return list(s.scalars(select(Offer.id).where(
        Offer.state.in_(ACTIVE_STATES), Offer.expires_at <= clock.now())
        .order_by(Offer.expires_at, Offer.id).limit(limit)))


# --- the guarded update ----------------------------------------------------------------

def _transition(s: Session, offer: Offer, to: OfferState, *, expected: tuple[str, ...],
                actor: str, reason: str, values: dict[str, Any] | None = None,
                before_deadline: bool = False) -> None:
    if offer.state not in expected:
        raise _illegal(offer, to)
    if before_deadline and offer.expires_at <= clock.now():
        raise _expired()
    if not _try_transition(s, offer, to, expected=expected, actor=actor, reason=reason,
                           values=values, before_deadline=before_deadline):
        # Someone else moved it between our read and our write: say what it is now.
        if offer.state in expected:
            raise _expired()
        raise _illegal(offer, to)


def _try_transition(s: Session, offer: Offer, to: OfferState, *, expected: Iterable[str],
                    actor: str, reason: str, values: dict[str, Any] | None = None,
                    before_deadline: bool = False, after_deadline: bool = False) -> bool:
    now = clock.now()
    before = offer.state
    changes: dict[str, Any] = {"state": to, "updated_at": now, **(values or {})}
    if to not in ACTIVE_STATES:
        changes["closed_at"] = now
    conditions = [Offer.id == offer.id, Offer.state.in_(list(expected))]
    if before_deadline:
        conditions.append(Offer.expires_at > now)
    if after_deadline:
        conditions.append(Offer.expires_at <= now)
    result = s.execute(update(Offer).where(*conditions).values(**changes)
                       .execution_options(synchronize_session=False))
    s.refresh(offer)
    if result.rowcount != 1:
        return False
    _log(s, offer, before, actor, reason)
    return True


def _log(s: Session, offer: Offer, before: str | None, actor: str, reason: str) -> None:
    s.add(OfferEvent(offer_id=offer.id, from_state=before, to_state=offer.state,
                     amount_paise=offer.amount_paise, actor=actor, reason=reason,
                     occurred_at=clock.now()))
    s.flush()


def _arm_expiry_timer(offer: Offer) -> None:
    deadline = offer.expires_at
    EXPIRE_OFFER.enqueue(offer.id, offer.state, deadline.isoformat(), at=deadline,
                         job_id=jobs.timer_id(f"expire-{offer.state}", "offer", offer.id,
                                              deadline))


def _require_turn(offer: Offer, side: str) -> None:
    if offer.state not in ACTIVE_STATES:
        raise _illegal(offer, "answered")
    if TURN[OfferState(offer.state)] != side:
        waiting_for = TURN[OfferState(offer.state)]
        raise Conflict(f"The offer is waiting for the {waiting_for}.", code="not_your_turn")


def _illegal(offer: Offer, to: str) -> Conflict:
    if offer.state == OfferState.SUPERSEDED:
        return Conflict("This item is no longer available.", code="not_available")
    if offer.state == OfferState.EXPIRED:
        return _expired()
    return Conflict(f"The offer is {offer.state}; it cannot be {to}.",
                    code="illegal_transition")


def _expired() -> Conflict:
    return Conflict("This offer has expired.", code="offer_expired")
