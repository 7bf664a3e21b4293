"""A generated marketplace for the recommendations benchmark, bulk-inserted.

Everything here is GENERATED: members with latent tastes (stored in `demo_member_tastes`,
the seed's ground-truth table), sellers of every kind (established, new, bad), listings
with a latent appeal, and interactions drawn from the tastes over 60 days.  Counterfeits
concentrate on bad sellers; some are flagged (a counterfeit risk at review level or an
open duplicate flag), false positives too; trust rows are written with the product's own
scoring (`trust.signals.scoring`), as its recompute jobs would.

Interactions up to the cut (80% of them in time) go into the marketplace's tables (likes,
orders, offers, comments, shares, follows) so the recommender reads them through its real
loader; the ones after the cut are kept in memory: they are the test.  The database is a
snapshot at the cut: listings sold before it are sold, listings published after it are
still drafts.
"""
from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import insert, select, text

from marketplace_core.listings.models import Listing
from marketplace_core.listings.taxonomy import CATEGORIES
from marketplace_core.members.models import Follow, Member
from marketplace_core.offers.models import Offer
from marketplace_core.orders.models import Order, OrderItem
from marketplace_core.seed.models import DemoListingTruth, DemoMemberTaste
from marketplace_core.social.models import Comment, Like, Share
from trust.signals.models import ItemRiskRecord, SellerTrustRecord
from trust.signals.scoring import DuplicateEvidence, score_item, score_seller
from trust.types import SellerCounts
from trust.weights import TrustWeights

DAYS = 60
KINDS = (("like", 0.52), ("share", 0.14), ("comment", 0.10), ("offer", 0.14),
         ("purchase", 0.10))
BRANDS = tuple(f"brand{i:02d}" for i in range(48))
WINDOW_DAYS = 21          # members browse what was published in the last three weeks
SAMPLE = 160              # listings a member "sees" per interaction


@dataclass(frozen=True)
class Size:
    members: int = 3000
    sellers: int = 1500
    listings: int = 100_000
    interactions_per_member: float = 24.0


@dataclass
class Taste:
    categories: tuple[str, ...]
    brands: tuple[str, ...]
    sizes: dict[str, str]
    price_band: tuple[int, int]

    def affinity(self, category: str, brand: str, size: str, price: int) -> float:
        score = 0.05
        if category in self.categories:
            score += 0.45
            if self.sizes.get(category) == size:
                score += 0.2
        if brand in self.brands:
            score += 0.3
        if self.price_band[0] <= price <= self.price_band[1]:
            score += 0.1
        return score


@dataclass
class World:
    start: datetime
    cut: datetime
    end: datetime
    member_ids: list[int]
    seller_kind: dict[int, str]                              # established | new | bad | normal
    listing_seller: dict[int, int]
    counterfeit: set[int]
    confirmed_later: set[int]        # counterfeits whose verdict lands after the precompute
    flagged: set[int]
    test: dict[int, set[int]] = field(default_factory=dict)  # member -> listings after cut
    live_at_cut: set[int] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)


def generate(s, size: Size, seed: int = 7, end: datetime | None = None) -> World:
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    end = end or datetime(2026, 11, 1, tzinfo=UTC)
    start = end - timedelta(days=DAYS)
    categories = tuple(CATEGORIES)
    members = _members(s, size.members + size.sellers, start, rng)
    buyers, sellers = members[:size.members], members[size.members:]
    seller_kind = _seller_kinds(sellers, rng)
    specialty = {m: (rng.sample(categories, 2), rng.sample(BRANDS, 4)) for m in sellers}
    listings = _listings(size.listings, sellers, seller_kind, specialty, start, end, rng, nrng)
    tastes = {m: _taste(categories, rng) for m in buyers}
    follows = _follows(buyers, sellers, specialty, tastes, seller_kind, rng)
    events = _interactions(buyers, tastes, follows, listings, size, start, end, rng, nrng)
    cut = sorted(e[3] for e in events)[int(len(events) * 0.8)]
    world = World(start=start, cut=cut, end=end, member_ids=buyers, seller_kind=seller_kind,
                  listing_seller={lid: L["seller"] for lid, L in listings.items()},
                  counterfeit={lid for lid, L in listings.items() if L["counterfeit"]},
                  confirmed_later=set(), flagged=set())
    _write(s, world, listings, tastes, follows, events, rng)
    return world


def _members(s, count: int, start: datetime, rng: random.Random) -> list[int]:
    rows = [{"id": i + 1, "email": f"m{i}@bench.test", "username": f"m{i}", "password_hash": "x",
             "display_name": f"Member {i}", "bio": "", "city": "", "is_active": True,
             "selling_restricted": False,
             "created_at": start - timedelta(days=rng.randint(1, 900))} for i in range(count)]
    s.execute(insert(Member), rows)
    _advance_sequence(s, "members")
    return list(range(1, count + 1))


def _advance_sequence(s, table: str) -> None:
    """Explicit ids leave PostgreSQL's sequence behind; later inserts must not collide."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                       f"(SELECT max(id) FROM {table}))"))


def _seller_kinds(sellers: list[int], rng: random.Random) -> dict[int, str]:
    kinds = {}
    for m in sellers:
        r = rng.random()
        kinds[m] = ("established" if r < 0.35 else "new" if r < 0.60 else
                    "bad" if r < 0.68 else "normal")
    return kinds


def _listings(n, sellers, seller_kind, specialty, start, end, rng, nrng) -> dict[int, dict]:
    listings = {}
    span = (end - start).total_seconds()
    for lid in range(1, n + 1):
        seller = rng.choice(sellers)
        cats, brands = specialty[seller]
        category = rng.choice(cats) if rng.random() < 0.8 else rng.choice(tuple(CATEGORIES))
        brand = rng.choice(brands) if rng.random() < 0.8 else rng.choice(BRANDS)
        size = rng.choice(CATEGORIES[category][1])
        brand_tier = BRANDS.index(brand) % 4
        price = int(math.exp(rng.gauss(7.0 + 0.5 * brand_tier, 0.5))) * 100
        price = max(10_000, min(price, 1_000_000))  # Rs 100 .. Rs 10,000 (live, no gate)
        bad = seller_kind[seller] == "bad"
        counterfeit = rng.random() < (0.30 if bad else 0.005)
        if seller_kind[seller] == "new":
            published = end - timedelta(seconds=rng.random() * span * 0.5)
        else:
            published = start + timedelta(seconds=rng.random() * span)
        listings[lid] = {"seller": seller, "category": category, "brand": brand, "size": size,
                         "price": int(price * (0.6 if counterfeit else 1.0)),
                         "published": published, "counterfeit": counterfeit,
                         "appeal": float(nrng.lognormal(0.0, 0.5))}
    return listings


def _taste(categories, rng: random.Random) -> Taste:
    chosen = tuple(rng.sample(categories, 2))
    low = int(math.exp(rng.uniform(6.5, 8.5))) * 100
    return Taste(categories=chosen, brands=tuple(rng.sample(BRANDS, 4)),
                 sizes={c: rng.choice(CATEGORIES[c][1]) for c in chosen},
                 price_band=(low, low * 3))


def _follows(buyers, sellers, specialty, tastes, seller_kind, rng) -> dict[int, set[int]]:
    by_category: dict[str, list[int]] = {}
    for seller, (cats, _brands) in specialty.items():
        if seller_kind[seller] != "new":
            for c in cats:
                by_category.setdefault(c, []).append(seller)
    follows = {}
    for m in buyers:
        pool = [x for c in tastes[m].categories for x in by_category.get(c, [])]
        follows[m] = set(rng.sample(pool, min(len(pool), rng.randint(0, 4))))
    return follows


def _interactions(buyers, tastes, follows, listings, size, start, end, rng, nrng):
    order = sorted(listings, key=lambda lid: listings[lid]["published"])
    published = [listings[lid]["published"].timestamp() for lid in order]
    by_seller: dict[int, list[int]] = {}
    for lid in order:
        by_seller.setdefault(listings[lid]["seller"], []).append(lid)
    sold: set[int] = set()
    events = []
    span = (end - start).total_seconds()
    for m in buyers:
        taste = tastes[m]
        count = max(2, int(nrng.lognormal(math.log(size.interactions_per_member), 0.6)))
        for _ in range(count):
            t = start.timestamp() + span * (rng.random() ** 0.7)
            lo = bisect_left(published, t - WINDOW_DAYS * 86400)
            hi = bisect_right(published, t)
            if hi - lo < 5:
                continue
            if follows[m] and rng.random() < 0.15:
                pool = [x for s_ in follows[m] for x in by_seller.get(s_, [])
                        if listings[x]["published"].timestamp() <= t]
                if not pool:
                    continue
                seen = rng.sample(pool, min(len(pool), 40))
            else:
                seen = [order[i] for i in nrng.integers(lo, hi, size=min(SAMPLE, hi - lo))]
            weights = np.array([_want(taste, listings[x]) for x in seen])
            lid = seen[int(nrng.choice(len(seen), p=weights / weights.sum()))]
            kind = _kind(rng)
            if kind == "purchase" and lid in sold:
                kind = "like"
            if kind == "purchase":
                sold.add(lid)
            events.append((m, lid, kind, datetime.fromtimestamp(t, UTC)))
    return events


def _want(taste: Taste, listing: dict) -> float:
    a = taste.affinity(listing["category"], listing["brand"], listing["size"], listing["price"])
    return (a ** 3) * listing["appeal"]


def _kind(rng: random.Random) -> str:
    r, total = rng.random(), 0.0
    for kind, share in KINDS:
        total += share
        if r < total:
            return kind
    return "like"


def _write(s, world: World, listings, tastes, follows, events, rng) -> None:
    cut = world.cut
    train = [e for e in events if e[3] < cut]
    # One interaction per (member, listing, kind) where the tables insist (likes).
    sold_at = {e[1]: e[3] for e in train if e[2] == "purchase"}
    _write_listings(s, listings, sold_at, cut)
    world.live_at_cut = {lid for lid, L in listings.items()
                         if L["published"] < cut and lid not in sold_at}
    for e in events:
        if e[3] >= cut and e[1] in world.live_at_cut:
            world.test.setdefault(e[0], set()).add(e[1])
    s.execute(insert(DemoMemberTaste), [
        {"member_id": m, "taste": {"categories": list(t.categories), "brands": list(t.brands),
                                   "sizes": t.sizes, "price_band": list(t.price_band)}}
        for m, t in tastes.items()])
    s.execute(insert(DemoListingTruth), [
        {"listing_id": lid, "item_id": f"item-{lid}", "model_key": L["brand"],
         "counterfeit": L["counterfeit"], "flaws": [], "reused_from_listing_id": None,
         "reuse_kind": None} for lid, L in listings.items()])
    follow_rows = [{"follower_id": m, "followee_id": x, "created_at": world.start}
                   for m, xs in follows.items() for x in xs]
    if follow_rows:
        s.execute(insert(Follow), follow_rows)
    _write_interactions(s, train, listings)
    _write_trust(s, world, listings, train, rng)
    # A counterfeit confirmed just after the batch is removed: nobody can interact with it
    # in the test period, so those interactions never happened.
    for member in list(world.test):
        world.test[member] -= world.confirmed_later
        if not world.test[member]:
            del world.test[member]
    world.counts = {"members": len(world.member_ids), "sellers": len(world.seller_kind),
                    "listings": len(listings), "interactions": len(events),
                    "train_interactions": len(train),
                    "test_interactions": sum(1 for e in events if e[3] >= cut),
                    "live_at_cut": len(world.live_at_cut),
                    "counterfeit_listings": len(world.counterfeit)}


def _write_listings(s, listings, sold_at, cut) -> None:
    rows = []
    for lid, L in listings.items():
        published = L["published"] if L["published"] < cut else None
        status = "sold" if lid in sold_at else "live" if published else "draft"
        rows.append({
            "id": lid, "seller_id": L["seller"], "title": f"{L['brand']} {L['category']}",
            "description": "", "brand": L["brand"], "brand_key": L["brand"],
            "category": L["category"], "size": L["size"], "condition": "like_new",
            "colour": "", "original_price_paise": None, "price_paise": L["price"],
            "weight_grams": 500, "status": status,
            "search_text": f"{L['brand']} {L['category']}",
            "created_at": L["published"], "updated_at": L["published"],
            "published_at": published, "sold_at": sold_at.get(lid), "version": 1})
    for i in range(0, len(rows), 5000):
        s.execute(insert(Listing), rows[i:i + 5000])
    _advance_sequence(s, "listings")


def _write_interactions(s, train, listings) -> None:
    likes, comments, shares, offers, orders, items = {}, [], [], [], [], []
    for n, (m, lid, kind, at) in enumerate(train):
        seller = listings[lid]["seller"]
        price = listings[lid]["price"]
        if kind == "like":
            likes[(lid, m)] = {"listing_id": lid, "member_id": m, "created_at": at}
        elif kind == "comment":
            comments.append({"listing_id": lid, "author_id": m, "body": "Is this available?",
                             "is_seller_reply": False, "created_at": at})
        elif kind == "share":
            shares.append({"listing_id": lid, "sharer_id": m, "target": "followers",
                           "created_at": at})
        elif kind == "offer":
            offers.append({"origin": "buyer", "listing_id": lid, "buyer_id": m,
                           "seller_id": seller, "state": "declined",
                           "amount_paise": price * 8 // 10, "buyer_amount_paise": price * 8 // 10,
                           "seller_amount_paise": price, "list_price_paise": price,
                           "expires_at": at + timedelta(days=1), "created_at": at,
                           "updated_at": at, "closed_at": at})
        else:
            orders.append({"buyer_id": m, "seller_id": seller,
                           "source": "buy_now", "items_total_paise": price,
                           "discount_paise": 0, "shipping_paise": 0, "total_paise": price,
                           "label_surcharge_paise": 0, "status": "completed",
                           "on_hold": False, "payment_method": "upi",
                           "provider_ref": f"bench-{n}", "idempotency_key": f"bench-{n}",
                           "request_fingerprint": "bench", "placed_at": at, "version": 1})
            items.append({"listing_id": lid, "price_paise": price})
    for model, rows in ((Like, list(likes.values())), (Comment, comments), (Share, shares),
                        (Offer, offers)):
        for i in range(0, len(rows), 5000):
            s.execute(insert(model), rows[i:i + 5000])
    _write_orders(s, orders, items)


def _write_orders(s, orders: list[dict], items: list[dict]) -> None:
    """Orders get their ids from the database (found again by their idempotency key)."""
    for i in range(0, len(orders), 5000):
        s.execute(insert(Order), orders[i:i + 5000])
    ids = dict(s.execute(select(Order.idempotency_key, Order.id)
                         .where(Order.idempotency_key.like("bench-%"))).all())
    rows = [{**item, "order_id": ids[order["idempotency_key"]]}
            for order, item in zip(orders, items, strict=True)]
    for i in range(0, len(rows), 5000):
        s.execute(insert(OrderItem), rows[i:i + 5000])


def _write_trust(s, world: World, listings, train, rng: random.Random) -> None:
    weights = TrustWeights()
    item_rows = []
    for lid in sorted(world.live_at_cut):
        L = listings[lid]
        counterfeit_score, duplicates = None, ()
        r = rng.random()
        if L["counterfeit"]:
            if r < 0.35:
                world.confirmed_later.add(lid)
                continue   # confirmed after the precompute: written by `confirm_later`
            if r < 0.80:
                counterfeit_score = rng.uniform(0.5, 0.97)
            elif r < 0.9:
                duplicates = (DuplicateEvidence("open", rng.uniform(0.6, 0.95)),)
        elif r < 0.008:
            counterfeit_score = rng.uniform(0.5, 0.7)        # false positives
        elif r < 0.012:
            duplicates = (DuplicateEvidence("open", rng.uniform(0.55, 0.8)),)
        risk = score_item(lid, L["seller"], status="live", authenticated=False,
                          counterfeit_verdict=False, counterfeit_score=counterfeit_score,
                          duplicates=duplicates, weights=weights)
        if risk.flagged:
            world.flagged.add(lid)
        if risk.flagged or counterfeit_score is not None:
            item_rows.append(_risk_row(risk, world.cut))
    if item_rows:
        s.execute(insert(ItemRiskRecord), item_rows)
    seller_rows = []
    for seller, kind in world.seller_kind.items():
        if kind == "new":
            continue   # no history: the loader's neutral default, as in the product
        counts = _seller_counts(kind, rng)
        trust = score_seller(seller, counts, weights)
        seller_rows.append({"seller_id": seller, "score": trust.score, "tier": trust.tier.value,
                            "confidence": trust.confidence, "parts": trust.parts,
                            "counts": counts.__dict__, "reasons": list(trust.reasons),
                            "weights_version": 0, "computed_at": world.cut})
    s.execute(insert(SellerTrustRecord), seller_rows)


def confirm_later(s, world: World, listings_seller: dict[int, int]) -> None:
    """Counterfeit verdicts that land after the precompute: the listing is removed and its
    risk row says so, as the authentication decision and the trust recompute would."""
    weights = TrustWeights()
    rows = []
    for lid in sorted(world.confirmed_later):
        risk = score_item(lid, listings_seller[lid], status="removed", authenticated=False,
                          counterfeit_verdict=True, counterfeit_score=None, duplicates=(),
                          weights=weights)
        rows.append(_risk_row(risk, world.cut))
    if rows:
        s.execute(insert(ItemRiskRecord), rows)
        s.execute(Listing.__table__.update().where(Listing.id.in_(sorted(world.confirmed_later)))
                  .values(status="removed", removed_at=world.cut,
                          removed_reason="counterfeit"))


def _risk_row(risk, at) -> dict:
    return {"listing_id": risk.listing_id, "seller_id": risk.seller_id,
            "excluded": risk.excluded, "exclusion_reason": risk.exclusion_reason,
            "flagged": risk.flagged, "flag_confidence": risk.flag_confidence,
            "authenticated": risk.authenticated, "counterfeit_score": risk.counterfeit_score,
            "duplicate_flags": risk.duplicate_flags, "reasons": list(risk.reasons),
            "computed_at": at}


def _seller_counts(kind: str, rng: random.Random) -> SellerCounts:
    if kind == "established":
        orders = rng.randint(15, 120)
        return SellerCounts(orders=orders, completed_orders=orders,
                            late_shipments=rng.randint(0, max(0, orders // 200)),
                            ratings=orders // 2, rating_sum=(orders // 2) * 5,
                            authentic_verdicts=rng.randint(0, 5), account_age_days=400)
    if kind == "bad":
        orders = rng.randint(5, 40)
        return SellerCounts(orders=orders, completed_orders=orders - 2, cancellations=2,
                            cases_lost=rng.randint(1, 4), counterfeit_verdicts=rng.randint(0, 2),
                            strikes=rng.randint(0, 2), ratings=orders // 2,
                            rating_sum=(orders // 2) * 3, account_age_days=200)
    orders = rng.randint(3, 15)
    return SellerCounts(orders=orders, completed_orders=orders, late_shipments=rng.randint(0, 1),
                        ratings=orders // 2, rating_sum=(orders // 2) * 4 + 1,
                        account_age_days=300)
