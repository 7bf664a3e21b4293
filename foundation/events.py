"""The domain events, all of them, and the in-process emit/subscribe mechanism.

A package announces a change by emitting one of these typed payloads; the packages above
it react without the emitter knowing them (the marketplace never imports authentication,
vision, disputes or trust).  Which handlers react to which event is declared in one
place, the composition root (`console.composition`), not by the handler modules.

Handlers run synchronously inside the emitting unit of work, in the order they were
subscribed, and receive the session and the payload's fields as keywords
(`handler(s, listing_id=..., reason=...)`): their writes commit or roll back with the
change that caused them, and slow work belongs in a job the handler enqueues (it leaves
after the commit).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, fields

from sqlalchemy.orm import Session

Handler = Callable[..., None]


@dataclass(frozen=True)
class Event:
    """What every event is: an immutable payload of ids and plain values."""

    def fields(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# --- listings and photos (marketplace_core.listings) -------------------------------------

@dataclass(frozen=True)
class ListingNeedsAuthentication(Event):
    """A listing priced above the authentication threshold, and not (still) authenticated,
    was published, repriced, re-photographed or relisted and now waits in
    `pending_authentication`; `reason` says which of these (published, price_raised,
    photos_changed, relisted, risk)."""
    listing_id: int
    reason: str


@dataclass(frozen=True)
class ListingWentLive(Event):
    """A listing became visible to buyers (status `live`), from draft, review or a
    cancelled order."""
    listing_id: int


@dataclass(frozen=True)
class ListingRemoved(Event):
    """A listing left the site for good (by its seller, staff, or a counterfeit verdict)."""
    listing_id: int
    reason: str


@dataclass(frozen=True)
class ListingPriceDropped(Event):
    """A live listing's price went down, from `old` to `new` paise (likers are told)."""
    listing_id: int
    old: int
    new: int


@dataclass(frozen=True)
class PhotoStored(Event):
    """A photo was added to a listing (stored, re-encoded and recorded)."""
    listing_id: int
    photo_id: int


@dataclass(frozen=True)
class PhotoRemoved(Event):
    """A listing's photo was deleted by its seller."""
    listing_id: int
    photo_id: int


# --- members (marketplace_core.members) --------------------------------------------------

@dataclass(frozen=True)
class MemberFollowed(Event):
    """A member started following another member's closet."""
    follower_id: int
    followee_id: int


# --- orders (marketplace_core.orders) ----------------------------------------------------

@dataclass(frozen=True)
class OrderPlaced(Event):
    """An order was placed and paid: the item is sold and its money is held."""
    order_id: int


@dataclass(frozen=True)
class OrderDelivered(Event):
    """The carrier delivered an order to its buyer; the acceptance window starts."""
    order_id: int


@dataclass(frozen=True)
class OrderCompleted(Event):
    """An order was accepted (by its buyer or automatically) and its money released."""
    order_id: int


@dataclass(frozen=True)
class OrderCancelled(Event):
    """An order was cancelled before shipping and refunded; `reason` says why."""
    order_id: int
    reason: str


@dataclass(frozen=True)
class OrderRated(Event):
    """The buyer rated the seller of an order."""
    order_id: int
    seller_id: int


# --- shipping (marketplace_core.shipping) ------------------------------------------------

@dataclass(frozen=True)
class ShipmentFlaggedLate(Event):
    """An order's seller did not ship within the shipping window."""
    order_id: int
    shipment_id: int


@dataclass(frozen=True)
class ReturnShipped(Event):
    """The carrier scanned a return parcel (buyer to seller) for the first time."""
    order_id: int
    shipment_id: int


@dataclass(frozen=True)
class ReturnDelivered(Event):
    """A return parcel reached the seller."""
    order_id: int
    shipment_id: int


# --- offers and bundles (marketplace_core.offers) ----------------------------------------

@dataclass(frozen=True)
class OfferMade(Event):
    """A buyer made an offer on a listing or a bundle."""
    offer_id: int


@dataclass(frozen=True)
class OfferCountered(Event):
    """One side countered an offer; `by` is "buyer" or "seller"."""
    offer_id: int
    by: str


@dataclass(frozen=True)
class OfferAccepted(Event):
    """An offer was accepted and became the order `order_id`."""
    offer_id: int
    order_id: int


@dataclass(frozen=True)
class OfferClosed(Event):
    """An offer ended without a sale; `state` is how (declined, expired, superseded, ...)."""
    offer_id: int
    state: str


@dataclass(frozen=True)
class OffersSentToLikers(Event):
    """A seller sent an offer to everyone who liked a listing."""
    listing_id: int
    offer_ids: tuple[int, ...]


@dataclass(frozen=True)
class BundlePurchased(Event):
    """A bundle was bought as one order."""
    bundle_id: int
    order_id: int


# --- authentication ----------------------------------------------------------------------

@dataclass(frozen=True)
class VerdictRecorded(Event):
    """An authentication review closed with a verdict (authentic, counterfeit, ...)."""
    request_id: int
    listing_id: int
    seller_id: int
    verdict: str


@dataclass(frozen=True)
class DisputeVerdictGiven(Event):
    """An authentication review opened for a buyer's "not authentic" case closed; the
    case waiting on it goes back to its agents."""
    request_id: int
    listing_id: int
    verdict: str


# --- disputes ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseClosed(Event):
    """A dispute case reached a closed state (refunded, split, released, withdrawn)."""
    case_id: int
    seller_id: int
    listing_id: int
    state: str


@dataclass(frozen=True)
class CasePhotosAdded(Event):
    """A party (`buyer` or `seller`) or staff added photos to a dispute case."""
    case_id: int
    party: str


# --- vision ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DuplicateFlagRecorded(Event):
    """A new open duplicate flag says a listing's photo copies another listing's."""
    flag_id: int
    listing_id: int


@dataclass(frozen=True)
class DuplicateFlagReviewed(Event):
    """An analyst confirmed or dismissed a duplicate flag (`status`)."""
    flag_id: int
    listing_id: int
    status: str


@dataclass(frozen=True)
class CounterfeitScored(Event):
    """A listing's counterfeit-risk score changed."""
    listing_id: int
    score: float


# --- the mechanism -----------------------------------------------------------------------

_handlers: dict[type[Event], list[Handler]] = defaultdict(list)


def catalogue() -> tuple[type[Event], ...]:
    """Every event class declared above."""
    return tuple(value for value in globals().values()
                 if isinstance(value, type) and issubclass(value, Event) and value is not Event)


def subscribe(event: type[Event], handler: Handler) -> Handler:
    """Have `handler` run on every `event` (once, however often it is subscribed)."""
    if not (isinstance(event, type) and issubclass(event, Event)):
        raise TypeError(f"subscribe to an event class, not {event!r}")
    if handler not in _handlers[event]:
        _handlers[event].append(handler)
    return handler


def subscribers(event: type[Event]) -> tuple[Handler, ...]:
    return tuple(_handlers[event])


def emit(s: Session, event: Event) -> None:
    payload = event.fields()
    for handler in list(_handlers[type(event)]):
        handler(s, **payload)
