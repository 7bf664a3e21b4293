"""Checkout: turning live listings and a payment into a placed order.

`place_order` is the one way an order comes to exist: buy now (the orders API), an
accepted offer and a bundle (the offers package) all call it.  It claims the listings
before any money moves, so that of two buyers racing for one item exactly one is
charged, and it does its writes in a savepoint, so that a declined card leaves no
order, no sold listing and no ledger entry behind even when the caller carries on.
"""
from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from foundation import clock, events, jobs
from foundation.config import current as settings
from foundation.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace_core.ledger import services as ledger
from marketplace_core.listings import services as listings
from marketplace_core.listings.models import Listing, ListingStatus
from marketplace_core.members.models import Member
from marketplace_core.orders import payments, provider_store
from marketplace_core.orders.models import Order, OrderEvent, OrderItem, OrderSource, OrderStatus

# Named, not imported: marketplace_core.orders.tasks (through services) imports this module.
AUTO_CANCEL_ORDER = jobs.named("marketplace_core.orders.tasks.auto_cancel_order")

log = logging.getLogger(__name__)
MAX_ITEMS = 50
MAX_KEY_LENGTH = 100


def place_order(s: Session, buyer: Member, items: list[tuple[Listing, int]], *, source: str,
                payment_method: str, idempotency_key: str, offer_id: int | None = None,
                bundle_id: int | None = None, discount_paise: int = 0) -> Order:
    """Sell `items` (each a live listing and the price it sells for, in paise) to `buyer`.

    - `source`: "buy_now" (the price must still be the listing's price), "offer" (needs
      `offer_id`) or "bundle" (needs `bundle_id`; its discount goes in `discount_paise`,
      which must leave the sale price above zero).
    - Every listing must be live, from one seller, and not the buyer's own.  The
      listings are locked (in id order) and marked sold; a listing someone else just
      bought raises Conflict "not_available" (409) and nothing is charged.
    - The buyer pays the items less the discount plus the flat PoshPost shipping fee
      (settings ORDER_SHIPPING_FEE_PAISE).  The capture goes into the ledger's held
      funds under the key "order:<id>:capture".  A declined payment raises
      PaymentDeclined (402, "payment_declined") and undoes everything this call did.
    - `idempotency_key` is the buyer's: the same key with the same request returns the
      first order (with `order.replayed` set) and charges nothing; the same key with a
      different request raises Conflict "idempotency_key_reused".
    - Emits events.OrderPlaced and arms the automatic cancellation timer.

    The caller owns the transaction: this flushes and never commits.
    """
    _check_request(buyer, items, source, payment_method, idempotency_key, offer_id,
                   bundle_id, discount_paise)
    fingerprint = _fingerprint(items, source, payment_method, offer_id, bundle_id,
                               discount_paise)
    locked = _lock_listings(s, [listing.id for listing, _ in items])
    earlier = _find_by_key(s, buyer.id, idempotency_key)
    if earlier is not None:
        return _replay(earlier, fingerprint)
    prices = {listing.id: price for listing, price in items}
    _check_sellable(buyer, locked, prices, source)
    order = _charge_and_record(s, buyer, locked, prices, source=source,
                               payment_method=payment_method,
                               idempotency_key=idempotency_key, fingerprint=fingerprint,
                               offer_id=offer_id, bundle_id=bundle_id,
                               discount_paise=discount_paise)
    _arm_auto_cancel(order)
    return order


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def auto_cancel_deadline(order: Order):
    return order.placed_at + timedelta(days=settings().ORDER_AUTO_CANCEL_DAYS)


# --- checks ---------------------------------------------------------------------------

def _check_request(buyer: Member, items, source, payment_method, idempotency_key, offer_id,
                   bundle_id, discount_paise) -> None:
    problems: dict[str, str] = {}
    if not items or len(items) > MAX_ITEMS:
        problems["items"] = f"1 to {MAX_ITEMS} listings"
    elif len({listing.id for listing, _ in items}) != len(items):
        problems["items"] = "each listing at most once"
    elif any(not _is_whole(price) or price <= 0 for _, price in items):
        problems["items"] = "every price must be a positive whole number of paise"
    if source not in set(OrderSource):
        problems["source"] = "one of: " + ", ".join(OrderSource)
    if source == OrderSource.OFFER and not _is_id(offer_id):
        problems["offer_id"] = "an accepted offer's id is required"
    if source == OrderSource.BUNDLE and not _is_id(bundle_id):
        problems["bundle_id"] = "the bundle's id is required"
    if source == OrderSource.BUY_NOW and (offer_id is not None or bundle_id is not None):
        problems["source"] = "a buy-now order has no offer or bundle"
    if not _is_whole(discount_paise) or discount_paise < 0:
        problems["discount_paise"] = "a whole number of paise, zero or more"
    elif "items" not in problems and discount_paise >= sum(p for _, p in items):
        problems["discount_paise"] = "must be less than the items' total"
    if not isinstance(idempotency_key, str) or not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH:
        problems["idempotency_key"] = f"1 to {MAX_KEY_LENGTH} characters"
    if not isinstance(payment_method, str) or not payment_method:
        problems["payment_method"] = "required"
    if problems:
        raise ValidationFailed("This order cannot be placed as asked.", fields=problems)
    payments.require_supported(payments.provider(), payment_method)
    if not buyer.is_active:
        raise PermissionDenied("This account cannot buy.", code="account_inactive")


def _is_whole(value) -> bool:
    return type(value) is int


def _is_id(value) -> bool:
    return _is_whole(value) and value > 0


def _lock_listings(s: Session, listing_ids: list[int]) -> list[Listing]:
    """The listings, re-read and row-locked in id order (PostgreSQL) so that two checkouts
    of the same item run one after the other and the second sees it sold."""
    rows = s.execute(select(Listing).where(Listing.id.in_(listing_ids))
                     .order_by(Listing.id).with_for_update()
                     .execution_options(populate_existing=True)).scalars().all()
    if len(rows) != len(listing_ids):
        raise NotFound("No such listing.")
    return list(rows)


def _check_sellable(buyer: Member, listings_: list[Listing], prices: dict[int, int],
                    source: str) -> None:
    for listing in listings_:
        if listing.seller_id == buyer.id:
            raise PermissionDenied("You cannot buy your own listing.", code="own_listing")
        if listing.status == ListingStatus.SOLD:
            raise Conflict("Someone else just bought this item.", code="not_available")
        if listing.status != ListingStatus.LIVE or listings.needs_authentication(listing):
            # Drafts and items awaiting authentication do not exist for buyers.
            raise NotFound("No such listing.")
        if source == OrderSource.BUY_NOW and prices[listing.id] != listing.price_paise:
            raise Conflict("The price has changed; check it and buy again.",
                           code="price_changed")
    if len({listing.seller_id for listing in listings_}) != 1:
        raise ValidationFailed("One order holds items from one closet only.",
                               code="several_sellers", fields={"items": "one seller"})


def _fingerprint(items, source, payment_method, offer_id, bundle_id, discount_paise) -> str:
    canonical = json.dumps({
        "items": sorted([listing.id, price] for listing, price in items),
        "source": source, "payment_method": payment_method, "offer_id": offer_id,
        "bundle_id": bundle_id, "discount_paise": discount_paise,
    }, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _find_by_key(s: Session, buyer_id: int, key: str) -> Order | None:
    return s.execute(select(Order).where(Order.buyer_id == buyer_id,
                                         Order.idempotency_key == key)).scalar_one_or_none()


def _replay(order: Order, fingerprint: str) -> Order:
    if order.request_fingerprint != fingerprint:
        raise Conflict("This idempotency key was already used for a different order.",
                       code="idempotency_key_reused")
    order.replayed = True
    return order


# --- writing --------------------------------------------------------------------------

def _charge_and_record(s: Session, buyer: Member, locked: list[Listing],
                       prices: dict[int, int], *, source: str, payment_method: str,
                       idempotency_key: str, fingerprint: str, offer_id: int | None,
                       bundle_id: int | None, discount_paise: int) -> Order:
    provider = payments.provider()
    items_total = sum(prices.values())
    shipping = settings().ORDER_SHIPPING_FEE_PAISE
    total = items_total - discount_paise + shipping
    capture = None
    try:
        with s.begin_nested():
            capture = provider.capture(amount_paise=total, method=payment_method,
                                       reference=f"checkout-{buyer.id}-{idempotency_key}")
            order = Order(buyer_id=buyer.id, seller_id=locked[0].seller_id, source=source,
                          offer_id=offer_id, bundle_id=bundle_id,
                          items_total_paise=items_total, discount_paise=discount_paise,
                          shipping_paise=shipping, total_paise=total,
                          label_surcharge_paise=0, status=OrderStatus.PLACED, on_hold=False,
                          payment_method=payment_method, provider_ref=capture.provider_ref,
                          idempotency_key=idempotency_key, request_fingerprint=fingerprint,
                          placed_at=clock.now())
            order.items = [OrderItem(listing_id=listing.id, price_paise=prices[listing.id])
                           for listing in locked]
            s.add(order)
            s.flush()
            for listing in locked:
                _mark_sold(s, listing, order)
            s.add(OrderEvent(order_id=order.id, kind="placed", from_status=None,
                             to_status=OrderStatus.PLACED, actor=f"member:{buyer.id}",
                             note=f"{source} via {payment_method}", occurred_at=clock.now()))
            ledger.capture_payment(s, order.id, buyer.id, order.seller_id, total,
                                   f"order:{order.id}:capture", capture.provider_ref)
            events.emit(s, events.OrderPlaced(order_id=order.id))
    except BaseException:
        if capture is not None:
            _void_now(provider, capture)
        raise
    return order


def _void_now(provider: payments.PaymentProvider, capture: payments.Capture) -> None:
    """Give back a capture whose order was not written.  Nothing of this transaction will
    hold an outbox row, so the void is asked for at once; when the provider does not
    answer, reconciliation finds the capture without an order and voids it through the
    outbox (`marketplace_core.outbox.reconcile.void_orphan_captures`)."""
    try:
        provider.void(provider_ref=capture.provider_ref,
                      reference=payments.void_reference(capture.provider_ref))
    except provider_store.ProviderUnavailable:
        log.warning("void of %s got no answer; reconciliation will void it",
                    capture.provider_ref, exc_info=True)


def _mark_sold(s: Session, listing: Listing, order: Order) -> None:
    try:
        listings.mark_sold(s, listing, f"order:{order.id}")
    except StaleDataError:
        # Changed under us since we read it (SQLite has no row lock to wait on).
        raise Conflict("Someone else just bought this item.", code="not_available") from None


def _arm_auto_cancel(order: Order) -> None:
    deadline = auto_cancel_deadline(order)
    AUTO_CANCEL_ORDER.enqueue(
        order.id, job_id=jobs.timer_id("auto_cancel_placed", "order", order.id, deadline),
        at=deadline)
