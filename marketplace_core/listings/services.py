"""Listing lifecycle: drafts, edits, photos, publishing, the authentication gate, sales.

The rule this product was founded on: a listing priced strictly above the
authentication threshold is never visible to buyers until staff authenticate it.
Every path that could make such an item visible goes through `_go_live_or_review`:
publishing, raising the price of a live listing, changing photos after
authentication, relisting.  Buyers only ever see `status == live`.
"""
from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from foundation import clock, events
from foundation.audit.services import record
from foundation.config import current as settings
from foundation.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from foundation.staff.models import StaffUser
from marketplace_core.listings.models import (
    Listing,
    ListingEvent,
    ListingPhoto,
    ListingStatus,
    PriceChange,
)
from marketplace_core.listings.taxonomy import CATEGORIES, CONDITIONS, sizes_for
from marketplace_core.members.models import Member

EDITABLE = ("title", "description", "brand", "category", "size", "condition", "colour",
            "original_price_paise", "price_paise", "weight_grams")


# --- reading -------------------------------------------------------------------------

def get_listing(s: Session, listing_id: int) -> Listing:
    listing = s.get(Listing, listing_id)
    if listing is None:
        raise NotFound("No such listing.")
    return listing


def get_for_viewer(s: Session, listing_id: int, viewer: Member | None) -> Listing:
    """A listing as a member may see it: its seller sees it in any state, others only live."""
    listing = s.get(Listing, listing_id)
    if listing is None or not is_visible_to(listing, viewer):
        raise NotFound("No such listing.")
    return listing


def is_visible_to(listing: Listing, viewer: Member | None) -> bool:
    if viewer is not None and viewer.id == listing.seller_id:
        return True
    return listing.status == ListingStatus.LIVE


def get_owned(s: Session, listing_id: int, member: Member) -> Listing:
    listing = get_for_viewer(s, listing_id, member)
    if listing.seller_id != member.id:
        raise PermissionDenied("Only the seller can change this listing.", code="not_owner")
    return listing


def needs_authentication(listing: Listing) -> bool:
    return listing.price_paise > settings().AUTHENTICATION_THRESHOLD_PAISE \
        and not listing.is_authenticated


# --- drafts and edits ----------------------------------------------------------------

def create_draft(s: Session, seller: Member, data: dict[str, Any]) -> Listing:
    _check_fields(data, partial=False)
    now = clock.now()
    listing = Listing(seller_id=seller.id, status=ListingStatus.DRAFT, created_at=now,
                      updated_at=now, description="", colour="", weight_grams=500)
    _apply(listing, data)
    s.add(listing)
    s.flush()
    _log(s, listing, None, ListingStatus.DRAFT, "created", f"member:{seller.id}")
    return listing


def update_listing(s: Session, seller: Member, listing: Listing,
                   changes: dict[str, Any]) -> Listing:
    if listing.status in (ListingStatus.SOLD, ListingStatus.REMOVED):
        raise Conflict(f"A {listing.status} listing cannot be edited.", code="not_editable")
    _check_fields({**_current_fields(listing), **changes}, partial=False)
    old_price = listing.price_paise
    _apply(listing, changes)
    listing.updated_at = clock.now()
    if listing.price_paise != old_price:
        _record_price_change(s, listing, old_price)
    if listing.status in (ListingStatus.LIVE, ListingStatus.PENDING_AUTHENTICATION):
        _go_live_or_review(s, listing, "price_changed", f"member:{seller.id}")
    s.flush()
    return listing


def _current_fields(listing: Listing) -> dict[str, Any]:
    return {name: getattr(listing, name) for name in EDITABLE}


def _apply(listing: Listing, data: dict[str, Any]) -> None:
    for name in EDITABLE:
        if name in data:
            setattr(listing, name, data[name])
    listing.brand_key = listing.brand.strip().lower()
    listing.search_text = " ".join(
        part.lower() for part in (listing.title, listing.brand, listing.category.replace(
            "_", " "), listing.colour or "", (listing.description or "")[:500]) if part)


def _check_fields(data: dict[str, Any], *, partial: bool) -> None:
    """Rules beyond the request schema: taxonomy, sizes per category, price bounds."""
    problems: dict[str, str] = {}
    rules = settings()
    category = data.get("category")
    if category is not None and category not in CATEGORIES:
        problems["category"] = "one of: " + ", ".join(CATEGORIES)
    elif category is not None and data.get("size") is not None \
            and data["size"] not in sizes_for(category):
        problems["size"] = f"for {category}: " + ", ".join(sizes_for(category))
    if data.get("condition") is not None and data["condition"] not in CONDITIONS:
        problems["condition"] = "one of: " + ", ".join(CONDITIONS)
    price = data.get("price_paise")
    if price is not None and not (rules.LISTING_MIN_PRICE_PAISE <= price
                                  <= rules.LISTING_MAX_PRICE_PAISE):
        problems["price_paise"] = (f"between {rules.LISTING_MIN_PRICE_PAISE} and "
                                   f"{rules.LISTING_MAX_PRICE_PAISE} paise")
    original = data.get("original_price_paise")
    if original is not None and original > rules.LISTING_MAX_PRICE_PAISE * 10:
        problems["original_price_paise"] = "implausibly high"
    if problems:
        raise ValidationFailed("Some listing details are not allowed.", fields=problems)


def _record_price_change(s: Session, listing: Listing, old_price: int) -> None:
    s.add(PriceChange(listing_id=listing.id, old_price_paise=old_price,
                      new_price_paise=listing.price_paise, changed_at=clock.now()))
    if listing.price_paise < old_price and listing.status == ListingStatus.LIVE:
        events.emit(s, events.ListingPriceDropped(
            listing_id=listing.id, old=old_price, new=listing.price_paise))


# --- photos --------------------------------------------------------------------------

def add_photo(s: Session, seller: Member, listing: Listing, *, media_key: str, width: int,
              height: int) -> ListingPhoto:
    """Attach a stored, normalised photo (see marketplace_core.media) as the last photo."""
    if listing.status in (ListingStatus.SOLD, ListingStatus.REMOVED):
        raise Conflict(f"A {listing.status} listing cannot take photos.", code="not_editable")
    count = s.scalar(select(func.count()).where(ListingPhoto.listing_id == listing.id)) or 0
    if count >= settings().LISTING_MAX_PHOTOS:
        raise Conflict(f"A listing holds at most {settings().LISTING_MAX_PHOTOS} photos.",
                       code="too_many_photos")
    photo = ListingPhoto(listing_id=listing.id, position=count, media_key=media_key,
                         width=width, height=height, created_at=clock.now())
    s.add(photo)
    s.flush()
    s.refresh(listing, ["photos"])
    _photos_changed(s, listing, seller)
    events.emit(s, events.PhotoStored(listing_id=listing.id, photo_id=photo.id))
    return photo


def remove_photo(s: Session, seller: Member, listing: Listing, photo_id: int) -> None:
    photo = s.get(ListingPhoto, photo_id)
    if photo is None or photo.listing_id != listing.id:
        raise NotFound("No such photo on this listing.")
    if (listing.status in (ListingStatus.LIVE, ListingStatus.PENDING_AUTHENTICATION)
            and len(listing.photos) == 1):
        raise Conflict("A published listing needs at least one photo.", code="last_photo")
    s.delete(photo)
    s.flush()
    s.refresh(listing, ["photos"])
    for position, remaining in enumerate(listing.photos):
        remaining.position = position
    _photos_changed(s, listing, seller)
    events.emit(s, events.PhotoRemoved(listing_id=listing.id, photo_id=photo_id))


def reorder_photos(s: Session, seller: Member, listing: Listing, photo_ids: list[int]) -> None:
    current = [p.id for p in listing.photos]
    if sorted(current) != sorted(photo_ids):
        raise ValidationFailed("Send every photo id of the listing exactly once.",
                               fields={"photo_ids": "must be a permutation of the photos"})
    by_id = {p.id: p for p in listing.photos}
    for position, photo_id in enumerate(photo_ids):
        by_id[photo_id].position = position
    s.flush()
    s.refresh(listing, ["photos"])
    _photos_changed(s, listing, seller)


def _photos_changed(s: Session, listing: Listing, seller: Member) -> None:
    listing.photos_changed_at = clock.now()
    listing.updated_at = listing.photos_changed_at
    if listing.status in (ListingStatus.LIVE, ListingStatus.PENDING_AUTHENTICATION):
        _go_live_or_review(s, listing, "photos_changed", f"member:{seller.id}")


# --- transitions ---------------------------------------------------------------------

def publish(s: Session, seller: Member, listing: Listing) -> Listing:
    if listing.status != ListingStatus.DRAFT:
        raise Conflict(f"Only a draft can be published; this listing is {listing.status}.",
                       code="illegal_transition")
    if seller.selling_restricted:
        raise PermissionDenied("Selling is restricted on your account.",
                               code="selling_restricted")
    if not listing.photos:
        raise Conflict("Add at least one photo before publishing.", code="no_photos")
    _go_live_or_review(s, listing, "published", f"member:{seller.id}")
    return listing


def withdraw(s: Session, seller: Member, listing: Listing) -> Listing:
    """The seller takes the listing down."""
    if listing.status not in (ListingStatus.DRAFT, ListingStatus.LIVE,
                              ListingStatus.PENDING_AUTHENTICATION):
        raise Conflict(f"A {listing.status} listing cannot be withdrawn.",
                       code="illegal_transition")
    _remove(s, listing, "withdrawn_by_seller", f"member:{seller.id}")
    return listing


def relist(s: Session, seller: Member, listing: Listing) -> Listing:
    """Put a listing the seller withdrew back up; above the threshold it is reviewed again."""
    if listing.status != ListingStatus.REMOVED or listing.removed_reason != "withdrawn_by_seller":
        raise Conflict("Only a listing you withdrew can be relisted.", code="illegal_transition")
    if seller.selling_restricted:
        raise PermissionDenied("Selling is restricted on your account.",
                               code="selling_restricted")
    listing.authenticated_at = None  # a relisted item may not be the item that was checked
    listing.authentication_certificate = None
    listing.removed_at = None
    listing.removed_reason = None
    _go_live_or_review(s, listing, "relisted", f"member:{seller.id}")
    return listing


def _go_live_or_review(s: Session, listing: Listing, reason: str, actor: str) -> None:
    """The one gate: live if allowed, else pending_authentication (and tell reviewers)."""
    before = listing.status
    if needs_authentication(listing):
        if before != ListingStatus.PENDING_AUTHENTICATION:
            _set_status(s, listing, ListingStatus.PENDING_AUTHENTICATION, reason, actor)
        events.emit(s, events.ListingNeedsAuthentication(listing_id=listing.id, reason=reason))
        return
    if before != ListingStatus.LIVE:
        _set_status(s, listing, ListingStatus.LIVE, reason, actor)
        now = clock.now()
        listing.published_at = listing.published_at or now
        listing.last_shared_at = listing.last_shared_at or now
        events.emit(s, events.ListingWentLive(listing_id=listing.id))


def hold_for_review(s: Session, listing: Listing, reason: str, actor: str) -> bool:
    """Another package judged a live listing risky although it is not above the threshold:
    it leaves public view and goes to reviewers exactly as an over-threshold one does.
    False (nothing changed) unless the listing is live and not already authenticated."""
    if listing.status != ListingStatus.LIVE or listing.is_authenticated:
        return False
    _set_status(s, listing, ListingStatus.PENDING_AUTHENTICATION, reason, actor)
    events.emit(s, events.ListingNeedsAuthentication(listing_id=listing.id, reason=reason))
    return True


def approve_authentication(s: Session, listing: Listing, *, actor: StaffUser,
                           certificate: str | None = None) -> Listing:
    """Staff found the item authentic: it goes live with a certificate."""
    if listing.status != ListingStatus.PENDING_AUTHENTICATION:
        raise Conflict(f"The listing is {listing.status}, not awaiting authentication.",
                       code="illegal_transition")
    listing.authenticated_at = clock.now()
    listing.authentication_certificate = certificate or f"PA-{secrets.token_hex(6).upper()}"
    record(s, actor, "listing.authenticated", "listing", listing.id,
           after={"certificate": listing.authentication_certificate})
    _go_live_or_review(s, listing, "authenticated", f"staff:{actor.id}")
    return listing


def remove_by_staff(s: Session, listing: Listing, *, actor: StaffUser | None,
                    reason: str) -> Listing:
    """Moderation or a counterfeit verdict: the listing leaves the site, audited
    (actor None: a system rule, such as an unanswered photo request, removed it)."""
    if listing.status in (ListingStatus.REMOVED, ListingStatus.SOLD):
        raise Conflict(f"The listing is already {listing.status}.", code="illegal_transition")
    if not reason or len(reason) > 200:
        raise ValidationFailed("Give a reason (at most 200 characters).",
                               fields={"reason": "required"})
    before = listing.status
    _remove(s, listing, reason, f"staff:{actor.id}" if actor else "system")
    record(s, actor, "listing.remove", "listing", listing.id, before={"status": before},
           after={"status": listing.status, "reason": reason})
    return listing


def _remove(s: Session, listing: Listing, reason: str, actor: str) -> None:
    _set_status(s, listing, ListingStatus.REMOVED, reason[:60], actor)
    listing.removed_at = clock.now()
    listing.removed_reason = reason
    events.emit(s, events.ListingRemoved(listing_id=listing.id, reason=reason))


def mark_sold(s: Session, listing: Listing, order_ref: str) -> None:
    if listing.status != ListingStatus.LIVE:
        raise Conflict("This item is not available.", code="not_available")
    _set_status(s, listing, ListingStatus.SOLD, "sold", order_ref)
    listing.sold_at = clock.now()


def return_to_sale(s: Session, listing: Listing, order_ref: str) -> None:
    """An order was cancelled before shipping: the item is available again."""
    if listing.status != ListingStatus.SOLD:
        raise Conflict(f"The listing is {listing.status}, not sold.", code="illegal_transition")
    listing.sold_at = None
    _go_live_or_review(s, listing, "order_cancelled", order_ref)


def mark_shared(s: Session, listing: Listing) -> None:
    """A member shared the listing: it moves up the "recently_shared" sort.

    A bulk UPDATE rather than an attribute change, so the listing's version does not
    move: a share is not an edit, and must not make the seller's concurrent edit stale.
    """
    now = clock.now()
    s.execute(update(Listing)
              .where(Listing.id == listing.id,
                     or_(Listing.last_shared_at.is_(None), Listing.last_shared_at < now))
              .values(last_shared_at=now)
              .execution_options(synchronize_session="fetch"))


def _set_status(s: Session, listing: Listing, to: ListingStatus, reason: str,
                actor: str) -> None:
    before = listing.status
    listing.status = to
    listing.updated_at = clock.now()
    s.flush()
    _log(s, listing, before, to, reason, actor)


def _log(s: Session, listing: Listing, before: str | None, after: str, reason: str,
         actor: str) -> None:
    s.add(ListingEvent(listing_id=listing.id, from_status=before, to_status=after,
                       reason=reason, actor=actor, occurred_at=clock.now()))
