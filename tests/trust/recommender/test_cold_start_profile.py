"""A member the batch has not seen: the feed builds their interests as the batch does,
with the same caps and the taste vector of the photos they liked."""
from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy import select

from foundation import clock, db
from marketplace_core.listings.models import Listing, ListingPhoto, ListingStatus
from marketplace_core.members import services as member_services
from marketplace_core.social.models import Like
from trust.recommender import feed
from trust.recommender.catalogue import load_catalogue, project_embeddings
from trust.recommender.interactions import load_follows, load_interactions
from trust.recommender.models import MemberCandidates
from trust.recommender.profiles import TOP_BRANDS, build_profiles
from vision.models import PhotoSignature

LIKED_BRANDS = TOP_BRANDS * 2 + 2      # more brands than a profile keeps
SIGNED = 3                             # liked listings whose photos have an embedding


def _embedding(noise_seed: int) -> bytes:
    """A photo embedding near one shared look (base), with a little noise of its own."""
    vector = np.random.default_rng(0).standard_normal(1280).astype(np.float32)
    vector += 0.3 * np.random.default_rng(noise_seed).standard_normal(1280).astype(np.float32)
    return vector.tobytes()


def _one_live_listing_per_brand(s, n: int) -> list[Listing]:
    picked: dict[str, Listing] = {}
    for listing in s.scalars(select(Listing).where(Listing.status == ListingStatus.LIVE)
                             .order_by(Listing.id)):
        picked.setdefault(listing.brand_key, listing)
    assert len(picked) >= n, "the generated world has too few brands for this test"
    return list(picked.values())[:n]


def _sign_a_photo(s, listing: Listing, seed: int) -> None:
    photo = ListingPhoto(listing_id=listing.id, position=0, media_key=f"{seed:064d}",
                         width=512, height=512)
    s.add(photo)
    s.flush()
    s.add(PhotoSignature(photo_id=photo.id, listing_id=listing.id,
                         seller_id=listing.seller_id, media_key=photo.media_key,
                         state="indexed", engine_version="test",
                         embedding=_embedding(seed)))


def _newcomer_who_liked(liked: list[Listing]) -> int:
    with db.unit_of_work() as s:
        member = member_services.register(s, email="newcomer@example.in",
                                          username="newcomer", password="a-long-password")
        for n, listing in enumerate(liked):
            s.add(Like(listing_id=listing.id, member_id=member.id,
                       created_at=clock.now() - timedelta(minutes=n + 1)))
        return member.id


def test_a_cold_start_member_gets_the_batchs_profile_with_a_taste_vector(world):
    with db.unit_of_work() as s:
        liked = _one_live_listing_per_brand(s, LIKED_BRANDS)
        for seed, listing in enumerate(liked[:SIGNED], start=1):
            _sign_a_photo(s, listing, seed)
    member_id = _newcomer_who_liked(liked)
    with db.unit_of_work() as s:
        assert s.get(MemberCandidates, member_id) is None       # the batch never saw them
        profile = feed.live_profile(s, member_id)
        batch = build_profiles(load_catalogue(s), load_interactions(s), load_follows(s))
        as_the_batch_sees_them = batch[member_id]

    # The photos they liked make a taste vector, pointing where those photos look.
    assert profile.taste is not None
    look = project_embeddings([_embedding(99)])
    assert float(profile.taste @ look) > 0.9
    # The profile keeps the batch's caps: at most twice the brands the features read.
    assert len(profile.brands) == TOP_BRANDS * 2 < LIKED_BRANDS
    assert profile.seen == {listing.id for listing in liked}
    # One builder: the same interests the batch would store for them.
    assert profile.brands == as_the_batch_sees_them.brands
    assert profile.categories == as_the_batch_sees_them.categories
    assert profile.sizes == as_the_batch_sees_them.sizes
    assert profile.sellers == as_the_batch_sees_them.sellers
    assert np.isclose(profile.price_mean, as_the_batch_sees_them.price_mean)
    assert np.isclose(profile.price_sd, as_the_batch_sees_them.price_sd)
    assert np.allclose(profile.taste, as_the_batch_sees_them.taste)


def test_a_member_with_no_history_gets_an_empty_profile(world):
    with db.unit_of_work() as s:
        member = member_services.register(s, email="quiet@example.in", username="quiet",
                                          password="a-long-password")
        profile = feed.live_profile(s, member.id)
    assert profile.is_empty and profile.taste is None and profile.seen == set()
