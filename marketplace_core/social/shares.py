"""Shares: a member puts a live listing in front of their followers, or into a live
Posh Party whose theme it fits.

Any member may share any live listing (sharing other closets' listings is how the
community helps sellers).  Every share, to followers or to a party, shows in the
sharer's followers' feeds and moves the listing up the "recently_shared" sort.
The seller hears about shares by others at most once per sharer, listing and day.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from foundation import clock
from foundation.errors import Conflict, ValidationFailed
from marketplace_core.listings import services as listings
from marketplace_core.listings.models import Listing, ListingStatus
from marketplace_core.members.models import Member
from marketplace_core.social import parties
from marketplace_core.social.models import NotificationKind, PartyState, Share, ShareTarget
from marketplace_core.social.notifications import notify


def share_to_followers(s: Session, sharer: Member, listing_id: int) -> Share:
    listing = _shareable(s, sharer, listing_id)
    return _share(s, sharer, listing, ShareTarget.FOLLOWERS, party_id=None)


def share_to_party(s: Session, sharer: Member, listing_id: int, party_id: int) -> Share:
    listing = _shareable(s, sharer, listing_id)
    party = parties.get_party(s, party_id)
    state = parties.state(party)
    if state != PartyState.LIVE:
        raise Conflict(f"You can share into a party only while it is live; this one is "
                       f"{state}.", code="party_not_live")
    misfits = parties.theme_misfits(party, listing)
    if misfits:
        raise ValidationFailed(f"This listing does not fit the theme of {party.title}.",
                               code="not_in_theme", fields=misfits)
    return _share(s, sharer, listing, ShareTarget.PARTY, party_id=party.id)


def _shareable(s: Session, sharer: Member, listing_id: int) -> Listing:
    listing = listings.get_for_viewer(s, listing_id, sharer)
    if listing.status != ListingStatus.LIVE:
        raise Conflict(f"Only a live listing can be shared; this one is {listing.status}.",
                       code="not_live")
    return listing


def _share(s: Session, sharer: Member, listing: Listing, target: ShareTarget,
           party_id: int | None) -> Share:
    now = clock.now()
    share = Share(listing_id=listing.id, sharer_id=sharer.id, target=target,
                  party_id=party_id, created_at=now)
    s.add(share)
    s.flush()
    listings.mark_shared(s, listing)
    notify(s, listing.seller_id, NotificationKind.SHARE, actor_id=sharer.id,
           listing_id=listing.id,
           payload={"title": listing.title, "to": str(target), "party_id": party_id},
           dedupe_key=f"share:{listing.id}:{sharer.id}:{now.date().isoformat()}")
    return share
