"""A small marketplace with a history of verdicts, built through the real services: sellers,
listings of the demo generator's products with their real rendered photos (through the
media intake and store), and the authentication team's decisions on them (claimed and
decided by two seniors, four eyes on counterfeits), one listing an hour."""
from __future__ import annotations

import marketplace_core.media  # noqa: F401  isort: skip  (sets OpenCV's pixel limit first)

import random
from dataclasses import dataclass
from datetime import timedelta

from authentication import claims
from authentication.seed import HISTORY_ACTOR, HISTORY_REASON, decide_by_truth
from foundation import clock, db
from foundation.staff.models import StaffUser
from marketplace_core.listings import services as listings
from marketplace_core.listings.models import Listing
from marketplace_core.listings.photos import store
from marketplace_core.listings.taxonomy import CATEGORIES, sizes_for
from marketplace_core.media import inspect_and_normalise
from marketplace_core.members import services as members
from marketplace_core.members.models import Member
from marketplace_core.seed import encode_jpeg, generate_catalog, render_product
from marketplace_core.seed.catalog import ProductSpec
from marketplace_core.seed.models import DemoListingTruth
from tests.builders.staff import make_staff

PHOTO_SIDE = 256
SELLERS = 8
SHADY = 2  # the closets most fakes come from, as in the demo


@dataclass(frozen=True)
class History:
    listing_ids: list[int]
    counterfeit: dict[int, bool]
    sellers: list[int]
    reviewers: list[int]


def build_history(settings, items: int = 60, seed: int = 5,
                  counterfeit_rate: float = 0.3) -> History:
    rng = random.Random(seed)
    reviewers = [make_staff(settings, "senior_authenticator")[0] for _ in range(2)]
    start = clock.now() - timedelta(days=20)
    sellers = _sellers(start - timedelta(days=200), rng)
    specs = generate_catalog(items, seed=seed, counterfeit_rate=counterfeit_rate)
    ids, truth = [], {}
    for index, spec in enumerate(specs):
        clock.freeze(start + timedelta(hours=index))
        seller = _shady_seller(sellers, rng) if spec.counterfeit and rng.random() < 0.8 \
            else rng.choice(sellers[SHADY:])
        listing_id = post(seller, spec)
        clock.freeze(start + timedelta(hours=index, minutes=30))
        judge(listing_id, reviewers, spec.counterfeit)
        ids.append(listing_id)
        truth[listing_id] = spec.counterfeit
    clock.freeze(None)
    return History(ids, truth, sellers, reviewers)


def _sellers(joined, rng) -> list[int]:
    moment = clock.now()
    ids = []
    for _ in range(SELLERS):
        clock.freeze(joined + timedelta(days=rng.randint(0, 150)))
        ids.append(_new_seller())
    clock.freeze(moment)
    return ids


def _new_seller() -> int:
    with db.unit_of_work() as s:
        index = s.query(Member).count()
        return members.import_member(
            s, email=f"seller{index}@example.test", username=f"seller_{index}",
            password_hash="not-a-login", display_name=f"Seller {index}").id


def _shady_seller(sellers: list[int], rng) -> int:
    """A shady closet; one restricted after its strikes is replaced by a new account
    (opened today), the way banned sellers come back."""
    slot = rng.randrange(SHADY)
    with db.unit_of_work() as s:
        restricted = s.get(Member, sellers[slot]).selling_restricted
    if restricted:
        sellers[slot] = _new_seller()
    return sellers[slot]


def post(seller_id: int, spec: ProductSpec, *, price_paise: int | None = None) -> int:
    """The product listed with its front photo, published (live or pending review)."""
    image = inspect_and_normalise(encode_jpeg(render_product(
        spec, angle="front", size=(PHOTO_SIDE, PHOTO_SIDE), rng_seed=spec.item_seed)),
        declared_content_type="image/jpeg")
    category = spec.category if spec.category in CATEGORIES else "dresses"
    with db.unit_of_work() as s:
        seller = s.get(Member, seller_id)
        listing = listings.create_draft(s, seller, {
            "title": spec.title[:120], "description": spec.description,
            "brand": spec.brand_name, "category": category, "size": sizes_for(category)[0],
            "condition": spec.condition, "colour": spec.colour,
            "price_paise": price_paise or spec.price_paise,
            "original_price_paise": spec.original_price_paise})
        listings.add_photo(s, seller, listing, media_key=store().save(image),
                           width=image.width, height=image.height)
        # The reviewers' judgement in this history (never read by the model).
        s.add(DemoListingTruth(listing_id=listing.id, item_id=spec.item_id,
                               model_key=spec.model, counterfeit=spec.counterfeit,
                               flaws=[f.kind for f in spec.flaws]))
        listings.publish(s, seller, listing)
        return listing.id


def judge(listing_id: int, reviewers: list[int], counterfeit: bool) -> None:
    """The team reviews the listing: pulled in if it is live, claimed, decided."""
    with db.unit_of_work() as s:
        listing = s.get(Listing, listing_id)
        listings.hold_for_review(s, listing, HISTORY_REASON, HISTORY_ACTOR)
    for reviewer_id, queue in zip(reviewers, ("review", "second_review"), strict=True):
        with db.unit_of_work() as s:
            request = claims.claim_next(s, s.get(StaffUser, reviewer_id), queue)
            if request is None:
                return
            decide_by_truth(s, s.get(StaffUser, reviewer_id), request, counterfeit)


def shady_seller(history: History) -> int:
    """A seller with counterfeits on record who may still sell."""
    return _shady_seller(history.sellers, random.Random(0))
