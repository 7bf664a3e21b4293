"""A removed fake coming back: the duplicate group a fraud analyst's day should show.

Runs after the review history (`authentication.seed.review_history`) has removed the
counterfeits the team caught.  The photos of the last one removed come back today,
re-shot, in two new listings: one from another closet and one from an account opened
this morning.  Signed with the planted duplicates (`vision.planted`), they make a group
of three on Vision > Duplicates: the removed original and its two returns.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from foundation import clock, db
from marketplace_core.listings import services as listings
from marketplace_core.listings.models import Listing, ListingPhoto, ListingStatus
from marketplace_core.listings.photos import open_stored, store
from marketplace_core.media.intake import inspect_and_normalise
from marketplace_core.members import services as members
from marketplace_core.members.models import Member
from marketplace_core.seed.demo import CITIES, DEMO_MEMBER_PASSWORD, reshoot_copy
from marketplace_core.seed.models import DemoListingTruth

RETURNING = "returning"
SELLER_WITHDRAWAL = "withdrawn_by_seller"   # a seller's own removal is not a takedown
NEW_ACCOUNT = "fresh_closet"


def plant_returning_photos(seed: int, real_now: datetime) -> dict[str, int]:
    """Post the two returns of the latest removed fake; {"returned": 0} when the history
    removed none (a demo too small for the team to have caught a fake)."""
    rng = random.Random(seed + 13)
    with db.unit_of_work() as s:
        original = latest_removed_fake(s)
        if original is None:
            return {"returned": 0}
        original_id, other = original.id, _another_closet(s, original)
        clock.freeze(real_now - timedelta(hours=rng.uniform(8, 12)))
        newcomer = _new_account(s, rng)
        returned = 0
        for seller, hours_ago in ((other, rng.uniform(4, 6)), (newcomer, rng.uniform(1, 3))):
            if seller is None:
                continue
            clock.freeze(real_now - timedelta(hours=hours_ago))
            _post_again(s, rng, original, seller)
            returned += 1
    clock.freeze(None)
    return {"returned": returned, "removed_listing": original_id}


def latest_removed_fake(s: Session) -> Listing | None:
    """The counterfeit with photos that staff removed last."""
    has_photos = exists().where(ListingPhoto.listing_id == Listing.id)
    return s.scalar(
        select(Listing).join(DemoListingTruth, DemoListingTruth.listing_id == Listing.id)
        .where(Listing.status == ListingStatus.REMOVED,
               Listing.removed_reason != SELLER_WITHDRAWAL,
               DemoListingTruth.counterfeit.is_(True), has_photos)
        .order_by(Listing.removed_at.desc(), Listing.id.desc()).limit(1))


def _another_closet(s: Session, original: Listing) -> Member | None:
    """The first other seller of fakes (one that deals in them is the likely buyer of a
    removed one's photos), else any other seller."""
    others = (select(Listing.seller_id).join(DemoListingTruth,
                                             DemoListingTruth.listing_id == Listing.id)
              .where(Listing.seller_id != original.seller_id)
              .order_by(DemoListingTruth.counterfeit.desc(), Listing.id).limit(1))
    seller_id = s.scalar(others)
    return None if seller_id is None else s.get(Member, seller_id)


def _new_account(s: Session, rng: random.Random) -> Member:
    return members.import_member(
        s, email=f"{NEW_ACCOUNT}@demo.posh.in", username=NEW_ACCOUNT,
        password_hash=members.hash_password(DEMO_MEMBER_PASSWORD),
        display_name="Fresh Closet", city=rng.choice(CITIES), bio="New here!")


def _post_again(s: Session, rng: random.Random, original: Listing, seller: Member) -> None:
    """The original's item and photos (re-shot: rescaled, recompressed, maybe cropped),
    posted and published by `seller`."""
    listing = listings.create_draft(s, seller, {
        "title": original.title, "description": original.description,
        "brand": original.brand, "category": original.category, "size": original.size,
        "condition": original.condition, "colour": original.colour,
        "price_paise": original.price_paise,
        "original_price_paise": original.original_price_paise,
        "weight_grams": original.weight_grams})
    media = store()
    for photo in original.photos:
        image = reshoot_copy(inspect_and_normalise(open_stored(photo.media_key).read_bytes(),
                                                   declared_content_type="image/jpeg"), rng)
        listings.add_photo(s, seller, listing, media_key=media.save(image),
                           width=image.width, height=image.height)
    truth = s.get(DemoListingTruth, original.id)
    s.add(DemoListingTruth(listing_id=listing.id, item_id=truth.item_id,
                           model_key=truth.model_key, counterfeit=True, flaws=truth.flaws,
                           reused_from_listing_id=original.id, reuse_kind=RETURNING))
    listings.publish(s, seller, listing)
