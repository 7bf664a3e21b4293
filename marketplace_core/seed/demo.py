"""`flask seed`: a deterministic demo marketplace built through the real services.

Members with latent tastes, closets, listings with generated product photos (some
counterfeit, some re-using other listings' photos), likes, follows, comments, shares,
parties, offers, and orders in every state with their money in the ledger.  The same
`seed` gives the same marketplace.  Photos are rendered and normalised in a process
pool; everything that writes goes through the services, so the demo exercises the
same rules as production.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select

from foundation import clock, db
from foundation.config import current as settings
from foundation.errors import DomainError
from marketplace_core.listings import services as listings
from marketplace_core.listings.models import Listing, ListingStatus
from marketplace_core.listings.photos import store
from marketplace_core.listings.taxonomy import CATEGORIES, sizes_for
from marketplace_core.media._opencv import cv2
from marketplace_core.media.intake import NormalisedImage, inspect_and_normalise
from marketplace_core.members import services as members
from marketplace_core.members.models import Member
from marketplace_core.offers import services as offers
from marketplace_core.orders import payouts
from marketplace_core.orders import services as orders
from marketplace_core.orders.models import Order, OrderStatus
from marketplace_core.orders.ratings import rate_order
from marketplace_core.outbox import dispatch
from marketplace_core.seed.catalog import ProductSpec, generate_catalog
from marketplace_core.seed.models import DemoListingTruth, DemoMemberTaste
from marketplace_core.seed.photos import encode_jpeg, listing_angles, render_product
from marketplace_core.shipping.carrier import SimulatedCarrier, in_process_transport
from marketplace_core.social import comments, likes, parties, shares

Progress = Callable[[str, int, int], None]
DEMO_MEMBER_PASSWORD = "demo-member-2026"
FIRST_NAMES = ["Aarav", "Priya", "Ishaan", "Ananya", "Kabir", "Meera", "Rohan", "Diya",
               "Vikram", "Sana", "Arjun", "Nisha", "Kavya", "Aditya", "Zoya", "Rahul",
               "Tara", "Dev", "Leela", "Farhan", "Ira", "Siddharth", "Pooja", "Nikhil"]
CITIES = ["Mumbai", "Delhi", "Bengaluru", "Hyderabad", "Chennai", "Kolkata", "Pune",
          "Jaipur", "Ahmedabad", "Lucknow", "Kochi", "Chandigarh", "Indore", "Surat"]
WEIGHT_GRAMS = {"handbags": 900, "sneakers": 1100, "heels": 800, "sarees": 700,
                "kurtas": 350, "lehengas": 1800, "sherwanis": 1500, "dresses": 400,
                "jackets": 1200, "watches": 300}
SIZE_ALIASES = {"One Size": "One size", "Free Size": "Free size"}
CHUNK = 100
HISTORY_DAYS = 180      # the marketplace's past the demo opens on
TODAY_SHARE = 0.08      # listings posted in the last day: today's authentication queue
TODAY_HOURS = 20


@dataclass
class SeedReport:
    members: int = 0
    listings: dict[str, int] = field(default_factory=dict)
    photos: int = 0
    counterfeit_listings: int = 0
    reused_photo_listings: int = 0
    shady_sellers: int = 0
    sloppy_sellers: int = 0
    likes: int = 0
    follows: int = 0
    comments: int = 0
    shares: int = 0
    offers: int = 0
    orders: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Taste:
    categories: tuple[str, ...]
    brands: tuple[str, ...]
    price_band: tuple[int, int]

    def likes(self, spec: ProductSpec) -> float:
        """How much this member wants the item: what the demo's interactions follow."""
        score = 0.15
        if spec.category in self.categories:
            score += 0.45
        if spec.brand in self.brands:
            score += 0.3
        low, high = self.price_band
        if low <= spec.price_paise <= high:
            score += 0.1
        return score


def seed_demo(*, listings_count: int, seed: int, progress: Progress,
              workers: int = 2) -> SeedReport:
    rng = random.Random(seed)
    report = SeedReport()
    specs = _pricier_items_today(generate_catalog(listings_count, seed))
    real_now = clock.now()
    start = real_now - timedelta(days=HISTORY_DAYS)
    try:
        member_ids, tastes = _seed_members(rng, specs, listings_count, start, report, progress)
        closets = _choose_closets(rng, member_ids, report)
        listing_specs = _seed_listings(rng, specs, closets, start, real_now, report,
                                       progress, workers, seed)
        _seed_social(rng, member_ids, tastes, listing_specs, real_now, report, progress)
        _seed_trades(rng, member_ids, tastes, listing_specs, closets, real_now, report,
                     progress)
        _count_listings(report)
    finally:
        clock.freeze(None)
    return report


def _pricier_items_today(specs: list[ProductSpec]) -> list[ProductSpec]:
    """Swap earlier items above the authentication threshold into some of today's slots
    (the catalogue's last ones), so today's queue has work in it at any demo size."""
    specs = list(specs)
    threshold = settings().AUTHENTICATION_THRESHOLD_PAISE
    first_today = len(specs) - max(1, int(len(specs) * TODAY_SHARE))
    pricey = [i for i in range(first_today) if specs[i].price_paise > threshold]
    cheap_today = [i for i in range(first_today, len(specs), 2)
                   if specs[i].price_paise <= threshold]
    for slot, earlier in zip(cheap_today, reversed(pricey), strict=False):
        specs[slot], specs[earlier] = specs[earlier], specs[slot]
    return specs


# --- members -------------------------------------------------------------------------

def _seed_members(rng, specs, listings_count, start, report, progress):
    count = max(30, listings_count // 6)
    password_hash = members.hash_password(DEMO_MEMBER_PASSWORD)
    brands_by_category: dict[str, list[str]] = {}
    for spec in specs:
        brands_by_category.setdefault(spec.category, [])
        if spec.brand not in brands_by_category[spec.category]:
            brands_by_category[spec.category].append(spec.brand)
    categories = sorted(brands_by_category)
    member_ids, tastes = [], {}
    with db.unit_of_work() as s:
        for index in range(count):
            clock.freeze(start - timedelta(days=rng.randint(1, 400)))
            name = f"{rng.choice(FIRST_NAMES)} {chr(65 + rng.randrange(26))}."
            username = f"{name.split()[0].lower()}_{index + 1}"
            member = members.import_member(
                s, email=f"{username}@demo.posh.in", username=username,
                password_hash=password_hash, display_name=name, city=rng.choice(CITIES),
                bio="Demo closet.")
            favourites = tuple(rng.sample(categories, k=min(2, len(categories))))
            brands = tuple(rng.choice(brands_by_category[c]) for c in favourites)
            low = rng.choice([20_000, 50_000, 100_000, 300_000])
            taste = Taste(favourites, brands, (low, low * rng.choice([5, 10, 40])))
            s.add(DemoMemberTaste(member_id=member.id, taste={
                "categories": list(taste.categories), "brands": list(taste.brands),
                "price_band": list(taste.price_band)}))
            member_ids.append(member.id)
            tastes[member.id] = taste
            progress("members", index + 1, count)
    report.members = count
    return member_ids, tastes


# --- listings and photos -------------------------------------------------------------

@dataclass(frozen=True)
class PhotoJob:
    spec: ProductSpec
    angles: tuple[str, ...]
    shoot_seed: int


def _render_and_normalise(job: PhotoJob) -> list[NormalisedImage]:
    """In a worker process: draw each angle, then pass it through the real intake."""
    images = []
    for offset, angle in enumerate(job.angles):
        photo = render_product(job.spec, angle=angle, rng_seed=job.shoot_seed + offset)
        images.append(inspect_and_normalise(encode_jpeg(photo),
                                            declared_content_type="image/jpeg"))
    return images


def reshoot_copy(image: NormalisedImage, rng: random.Random) -> NormalisedImage:
    """A stolen photo as thieves post it: rescaled, recompressed, sometimes cropped."""
    array = cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_COLOR)
    scale = rng.uniform(0.7, 0.95)
    array = cv2.resize(array, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        h, w = array.shape[:2]
        cut = int(min(h, w) * rng.uniform(0.03, 0.08))
        array = array[cut:h - cut, cut:w - cut]
    ok, buffer = cv2.imencode(".jpg", array, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(60, 85)])
    return inspect_and_normalise(buffer.tobytes(), declared_content_type="image/jpeg")


def _listed_at(index: int, total: int, start: datetime, real_now: datetime) -> datetime:
    """Listings in posting order: most over the months behind, the last few today (so
    today's authentication queue is young, as a queue worked every day is)."""
    today_from = total - max(1, int(total * TODAY_SHARE))
    if index >= today_from:
        share = (index - today_from + 1) / (total - today_from + 1)
        return real_now - timedelta(hours=TODAY_HOURS * (1 - share) + 0.5)
    past_end = real_now - timedelta(hours=TODAY_HOURS + 4)
    return start + (past_end - start) * (index / max(1, today_from))


def _seed_listings(rng, specs, closets, start, real_now, report, progress, workers, seed):
    sellers = _assign_sellers(rng, specs, closets)
    jobs = [PhotoJob(spec, listing_angles(spec, rng.choice((1, 2, 2, 3))), seed * 100_000 + i * 10)
            for i, spec in enumerate(specs)]
    listing_specs: dict[int, ProductSpec] = {}
    posted: list[tuple[int, list[NormalisedImage], int]] = []  # (listing, photos, seller)
    media = store()
    done = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        rendered = pool.map(_render_and_normalise, jobs, chunksize=8)
        batch = []
        for index, (spec, images) in enumerate(zip(specs, rendered, strict=True)):
            batch.append((index, spec, images))
            if len(batch) == CHUNK or index == len(specs) - 1:
                with db.unit_of_work() as s:
                    for i, item_spec, item_images in batch:
                        clock.freeze(_listed_at(i, len(specs), start, real_now))
                        seller = s.get(Member, sellers[i])
                        reuse = _maybe_reuse(rng, posted, seller.id,
                                             seller.id in closets.shady)
                        listing = _post_listing(s, media, seller, item_spec, item_images,
                                                rng, reuse, report)
                        listing_specs[listing.id] = item_spec
                        posted.append((listing.id, item_images, seller.id))
                        done += 1
                        progress("listings and photos", done, len(specs))
                batch = []
    return listing_specs


def _count_listings(report) -> None:
    with db.unit_of_work() as s:
        counts: dict[str, int] = {}
        for status in s.scalars(select(Listing.status)):
            counts[status] = counts.get(status, 0) + 1
        report.listings = counts


@dataclass(frozen=True)
class Closets:
    """Who sells: honest closets (a few busy ones list most), sloppy ones (honest items,
    careless service) and the shady few that carry most of the fakes, as in real life."""
    honest: tuple[int, ...]
    weights: tuple[float, ...]     # how busy each honest closet is
    sloppy: frozenset[int]
    shady: tuple[int, ...]


def _choose_closets(rng, member_ids, report) -> Closets:
    shady = tuple(rng.sample(member_ids, k=max(2, len(member_ids) // 25)))
    honest = [m for m in member_ids if m not in shady]
    sellers = rng.sample(honest, k=max(5, int(len(honest) * 0.6)))
    # Busy enough to be judged: every seventh closet, the busiest first (volume, no care).
    sloppy = frozenset(sellers[0::7][:max(2, len(sellers) // 10)])
    report.shady_sellers, report.sloppy_sellers = len(shady), len(sloppy)
    # Zipf-like: the busiest closet lists about ten times what the tenth does.
    weights = tuple(1 / (rank + 1) ** 0.9 for rank in range(len(sellers)))
    return Closets(tuple(sellers), weights, sloppy, shady)


def _assign_sellers(rng, specs, closets: Closets) -> list[int]:
    """Fakes go to the shady closets, but for a few that any closet may have bought in
    good faith; everything else to the honest ones, the busy ones most."""
    return [(rng.choice(closets.shady) if rng.random() < 0.9 else rng.choice(closets.honest))
            if spec.counterfeit
            else rng.choices(closets.honest, weights=closets.weights, k=1)[0]
            for spec in specs]


def _maybe_reuse(rng, posted, seller_id, shady: bool):
    """Shady closets often pass off other sellers' photos as their own and re-post their
    own (a removed fake coming back); other closets rarely do either."""
    if len(posted) < 20:
        return None
    roll = rng.random()
    steal, repost = (0.2, 0.35) if shady else (0.01, 0.03)
    if roll < steal:
        source = rng.choice([p for p in posted[-200:] if p[2] != seller_id] or posted)
        return ("stolen", source)
    if roll < repost:
        own = [p for p in posted if p[2] == seller_id]
        if own:
            return ("reposted", rng.choice(own))
    return None


def _post_listing(s, media, seller, spec, images, rng, reuse, report) -> Listing:
    category = spec.category if spec.category in CATEGORIES else "dresses"
    size = SIZE_ALIASES.get(spec.size, spec.size)
    if size not in sizes_for(category):
        size = sizes_for(category)[0]
    weight = WEIGHT_GRAMS.get(category, 600) + (1_200 if rng.random() < 0.05 else 0)
    data = {"title": spec.title[:120], "description": spec.description, "brand": spec.brand_name,
            "category": category, "size": size, "condition": spec.condition,
            "colour": spec.colour, "price_paise": spec.price_paise,
            "original_price_paise": spec.original_price_paise, "weight_grams": weight}
    listing = listings.create_draft(s, seller, data)
    photos = images
    reused_from, reuse_kind = None, None
    if reuse is not None:
        reuse_kind, (reused_from, source_images, _) = reuse
        photos = ([reshoot_copy(img, rng) for img in source_images] if reuse_kind == "stolen"
                  else source_images)
        report.reused_photo_listings += 1
    for image in photos:
        key = media.save(image)
        listings.add_photo(s, seller, listing, media_key=key, width=image.width,
                           height=image.height)
        report.photos += 1
    s.add(DemoListingTruth(listing_id=listing.id, item_id=spec.item_id, model_key=spec.model,
                           counterfeit=spec.counterfeit,
                           flaws=[f.kind for f in spec.flaws],
                           reused_from_listing_id=reused_from, reuse_kind=reuse_kind))
    report.counterfeit_listings += int(spec.counterfeit)
    roll = rng.random()
    if roll < 0.03:
        return listing  # stays a draft
    listings.publish(s, seller, listing)
    if roll < 0.05 and listing.status == ListingStatus.LIVE:
        listings.withdraw(s, seller, listing)
    return listing


# --- social --------------------------------------------------------------------------

def _seed_social(rng, member_ids, tastes, listing_specs, real_now, report, progress):
    live = _live_listing_sellers()
    steps = len(member_ids)
    with db.unit_of_work() as s:
        clock.freeze(real_now - timedelta(days=1))
        parties.seed_parties_for_day(s, (real_now - timedelta(hours=2)).date())
        parties.seed_parties_for_day(s, real_now.date())
    for index, member_id in enumerate(member_ids):
        with db.unit_of_work() as s:
            member = s.get(Member, member_id)
            taste = tastes[member_id]
            clock.freeze(real_now - timedelta(hours=rng.randint(2, 24 * 20)))
            for followee in rng.sample(member_ids, k=min(len(member_ids) - 1,
                                                         rng.randint(3, 15))):
                if followee != member_id and members.follow(s, member, s.get(Member,
                                                                             followee)):
                    report.follows += 1
            for listing_id, seller_id in rng.sample(live, k=min(len(live), 60)):
                spec = listing_specs.get(listing_id)
                if seller_id == member_id or spec is None:
                    continue
                if rng.random() < taste.likes(spec) * 0.5:
                    clock.freeze(real_now - timedelta(minutes=rng.randint(60, 60 * 24 * 20)))
                    if _quietly(likes.like, s, member, listing_id):
                        report.likes += 1
                    if rng.random() < 0.08 and _quietly(
                            comments.add_comment, s, member, listing_id,
                            rng.choice(COMMENT_LINES)):
                        report.comments += 1
                    if rng.random() < 0.05 and _quietly(shares.share_to_followers, s, member,
                                                        listing_id):
                        report.shares += 1
        progress("likes, follows, comments", index + 1, steps)


COMMENT_LINES = ["Is the price negotiable?", "Can you share the measurements?",
                 "Any flaws not in the photos?", "Love this colour!",
                 "Is this the original packaging?", "Would you bundle with the kurta?"]


def _live_listing_sellers() -> list[tuple[int, int]]:
    with db.unit_of_work() as s:
        return [(row.id, row.seller_id) for row in s.execute(
            select(Listing.id, Listing.seller_id).where(
                Listing.status == ListingStatus.LIVE).order_by(Listing.id))]


def _quietly(action, *args) -> bool:
    """Demo actions may hit a rule (a listing sold meanwhile): skip them, like a member."""
    s = args[0]
    try:
        with s.begin_nested():
            result = action(*args)
    except DomainError:
        return False
    return result is not False



# --- offers, orders, shipping, ratings, payouts --------------------------------------

RECENT_STATES = ("placed", "shipped", "delivered")   # sales of the last days, still moving
RECENT_SHARE = 0.15
# (cancelled, disputed, poor rating) odds per sale of a past order, by the kind of closet
PAST_ODDS = {"honest": (0.01, 0.02, 0.05), "sloppy": (0.15, 0.08, 0.5),
             "shady": (0.3, 0.35, 0.7)}
PAYMENT_METHODS = ("test_card_ok", "test_upi_ok")
LOVE_NOTES = ["Exactly as described, thank you!", "Beautiful piece, quick shipping.",
              "Packed with care. Would buy again.", "Lovely closet, smooth deal.",
              "Colour slightly different but happy overall."]


def _seed_trades(rng, member_ids, tastes, listing_specs, closets, real_now, report, progress):
    """Sales over the months behind, in the order they happened, each walked through time
    to its end: busy honest closets build a record, sloppy ones cancel and disappoint,
    shady ones lose disputes; the last days' sales are still on their way."""
    listed = _live_listings_listed_before(real_now - timedelta(days=4))
    listed = [row for row in listed if row[0] in listing_specs]
    rng.shuffle(listed)
    orders_wanted = max(10, len(listing_specs) // 5)
    offers_wanted = max(8, len(listing_specs) // 25)
    sales = listed[:orders_wanted]
    negotiations = [(listing_id, seller_id) for listing_id, seller_id, _ in
                    listed[orders_wanted:orders_wanted + offers_wanted]]
    counts: dict[str, int] = {}
    planned = [_plan_sale(rng, seller_id, listed_at, closets, real_now, index, len(sales))
               for index, (_, seller_id, listed_at) in enumerate(sales)]
    _first_sloppy_sales_cancelled(sales, planned, closets)
    for index, ((listing_id, seller_id, _), (final, placed_at, poor)) in enumerate(
            sorted(zip(sales, planned, strict=True), key=lambda pair: pair[1][1])):
        buyer_id = _buyer_for(rng, member_ids, tastes, listing_specs[listing_id], seller_id)
        reached = _trade(rng, listing_id, buyer_id, final, placed_at, poor, real_now)
        counts[reached] = counts.get(reached, 0) + 1
        progress("orders, shipping, ratings", index + 1, len(sales))
    for index, (listing_id, seller_id) in enumerate(negotiations):
        buyer_id = _buyer_for(rng, member_ids, tastes, listing_specs[listing_id], seller_id)
        if _negotiate(rng, listing_id, buyer_id, seller_id, real_now):
            report.offers += 1
        progress("offers and counters", index + 1, len(negotiations))
    _seed_payouts(real_now)
    report.orders = counts


def _live_listings_listed_before(moment: datetime) -> list[tuple[int, int, datetime]]:
    with db.unit_of_work() as s:
        return [(row.id, row.seller_id, row.created_at) for row in s.execute(
            select(Listing.id, Listing.seller_id, Listing.created_at).where(
                Listing.status == ListingStatus.LIVE, Listing.created_at < moment)
            .order_by(Listing.id))]


def _closet_kind(seller_id: int, closets: Closets) -> str:
    if seller_id in closets.shady:
        return "shady"
    return "sloppy" if seller_id in closets.sloppy else "honest"


def _first_sloppy_sales_cancelled(sales, planned, closets) -> None:
    """Each sloppy closet's first past sale is cancelled: even a small demo shows why it
    is watched."""
    seen: set[int] = set()
    for index, ((_, seller_id, _), (final, placed_at, poor)) in enumerate(
            zip(sales, planned, strict=True)):
        if seller_id in closets.sloppy and seller_id not in seen and final == "completed":
            planned[index] = ("cancelled", placed_at, poor)
            seen.add(seller_id)


def _plan_sale(rng, seller_id, listed_at, closets, real_now, index, total):
    """(final state, when the order is placed, whether the buyer rates it poorly)."""
    recent = max(3, int(total * RECENT_SHARE))
    if index < recent:
        final = RECENT_STATES[index % len(RECENT_STATES)]
        days = {"placed": (0.1, 1), "shipped": (1, 2), "delivered": (2.5, 3.5)}[final]
        return final, real_now - timedelta(days=rng.uniform(*days)), False
    cancel, dispute, poor = PAST_ODDS[_closet_kind(seller_id, closets)]
    roll = rng.random()
    final = "cancelled" if roll < cancel else "disputed" if roll < cancel + dispute \
        else "completed"
    # Even a tiny demo has a cancelled sale and three disputed: a case the seller won, one
    # the seller lost, and one nobody decided in time (disputes.seed).
    if index - recent < 4:
        final = ("cancelled", "disputed", "disputed", "disputed")[index - recent]
    latest = real_now - timedelta(days=12)   # room for shipping, delivery and acceptance
    earliest = listed_at + timedelta(hours=3)
    if earliest >= latest:
        return "placed", real_now - timedelta(hours=rng.uniform(2, 20)), False
    return final, earliest + (latest - earliest) * rng.random() ** 0.7, rng.random() < poor


def _buyer_for(rng, member_ids, tastes, spec, seller_id) -> int:
    candidates = [m for m in member_ids if m != seller_id]
    weights = [tastes[m].likes(spec) for m in candidates]
    return rng.choices(candidates, weights=weights, k=1)[0]


POOR_NOTES = ["Took ages to ship and the item was not as shown.",
              "Smelled of smoke; not as described.", "Poor packing, item crushed."]


def _trade(rng, listing_id: int, buyer_id: int, final: str, placed_at: datetime,
           poor: bool, real_now: datetime) -> str:
    """One sale, walked through time to `final`; returns the state it reached (a
    "disputed" sale stops at delivered: disputes.seed opens and settles its case)."""
    clock.freeze(placed_at)
    with db.unit_of_work() as s:
        listing = s.get(Listing, listing_id)
        if listing.status != ListingStatus.LIVE:
            return "skipped"
        order = orders.place_order(s, s.get(Member, buyer_id), [(listing, listing.price_paise)],
                                   source="buy_now", payment_method=rng.choice(PAYMENT_METHODS),
                                   idempotency_key=f"demo-{listing_id}")
        order_id = order.id
    if final == "placed":
        return "placed"
    if final == "cancelled":
        clock.freeze(placed_at + timedelta(days=7, hours=2))
        with db.unit_of_work() as s:
            order = orders.get_order(s, order_id)
            orders.cancel_by_buyer(s, order, s.get(Member, buyer_id), "Seller has not shipped.")
        return "cancelled"
    _carrier(order_id, "in_transit", placed_at + timedelta(hours=rng.randint(6, 20)))
    if final == "shipped":
        return "shipped"
    delivered_at = (real_now - timedelta(hours=rng.randint(2, 40)) if final == "delivered"
                    else placed_at + timedelta(days=3))
    _carrier(order_id, "delivered", delivered_at)
    if final in ("delivered", "disputed"):
        return final
    clock.freeze(delivered_at + timedelta(hours=rng.randint(2, 60)))
    with db.unit_of_work() as s:
        order = orders.get_order(s, order_id)
        buyer = s.get(Member, buyer_id)
        orders.accept(s, order, buyer)
        if poor:
            rate_order(s, order, buyer, stars=rng.choice((1, 2, 3)), text=rng.choice(POOR_NOTES))
        elif rng.random() < 0.7:
            rate_order(s, order, buyer, stars=rng.choice((5, 5, 5, 4, 4, 3)),
                       text=rng.choice(LOVE_NOTES))
    return "completed"


def _carrier(order_id: int, to: str, at: datetime) -> None:
    """Tracking scans through the real signed-webhook path, as the carrier sends them."""
    clock.freeze(at)
    SimulatedCarrier(in_process_transport).advance(order_id, to)


def _negotiate(rng, listing_id: int, buyer_id: int, seller_id: int, real_now: datetime) -> bool:
    """An offer left at some step of its negotiation: pending, countered, declined, bought."""
    clock.freeze(real_now - timedelta(hours=rng.randint(1, 20)))
    try:
        with db.unit_of_work() as s:
            listing = s.get(Listing, listing_id)
            buyer, seller = s.get(Member, buyer_id), s.get(Member, seller_id)
            amount = max(listing.price_paise * rng.randint(60, 90) // 100, 5_000)
            offer = offers.make_offer(s, buyer, listing_id, amount, rng.choice(PAYMENT_METHODS))
            step = rng.random()
            if step < 0.35:
                return True  # waiting for the seller
            clock.freeze(clock.now() + timedelta(minutes=rng.randint(10, 120)))
            if step < 0.5:
                offers.decline(s, seller, offer)
            elif step < 0.8:
                offers.counter(s, seller, offer, (amount + listing.price_paise) // 2)
            else:
                offers.accept(s, seller, offer)
        return True
    except DomainError:
        return False


def _seed_payouts(real_now: datetime) -> None:
    """Sellers with released money get a bank account and yesterday's payout."""

    clock.freeze(real_now - timedelta(days=1))
    with db.unit_of_work() as s:
        seller_ids = sorted(set(s.scalars(select(Order.seller_id).where(
            Order.status == OrderStatus.COMPLETED))))
        for seller_id in seller_ids:
            payouts.set_payout_account(s, s.get(Member, seller_id),
                                       account_number=f"5010{seller_id:08d}",
                                       ifsc="HDFC0001234")
        started = payouts.start_due_payouts(s)
    for payout_id in started:
        with db.unit_of_work() as s:
            dispatch.send_payout(s, payout_id)
