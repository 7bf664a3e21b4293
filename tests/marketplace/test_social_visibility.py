"""Nothing social happens to a listing that is not live: a non-owner gets 404 (the listing
does not exist for them), the owner a 409, and nothing is written either way."""
from __future__ import annotations

import pytest

from marketplace_core.social.models import Comment, Like, Notification, Share
from tests.builders import API
from tests.builders.rows import count
from tests.builders.social import NOT_LIVE, error_code, listing_in, register


def _nothing_written() -> bool:
    return all(count(model) == 0 for model in (Like, Comment, Share, Notification))


@pytest.mark.parametrize("status", NOT_LIVE)
def test_members_cannot_touch_a_listing_that_is_not_live(client, status):
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = listing_in(seller, status)
    base = f"{API}/listings/{listing_id}"

    answers = [
        client.post(f"{base}/like", headers=asha.headers),
        client.get(f"{base}/likes", headers=asha.headers),
        client.get(f"{base}/likes"),
        client.get(f"{base}/comments", headers=asha.headers),
        client.post(f"{base}/comments", headers=asha.headers, json={"body": "Still there?"}),
        client.post(f"{base}/share", headers=asha.headers, json={"to": "followers"}),
        client.delete(f"{base}/like", headers=asha.headers),
    ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    assert all(error_code(a) == "not_found" for a in answers)
    assert _nothing_written()


@pytest.mark.parametrize("status", NOT_LIVE)
def test_the_owner_sees_their_listing_but_cannot_socialise_it_until_live(client, status):
    seller = register(client, "seller")
    listing_id = listing_in(seller, status)
    base = f"{API}/listings/{listing_id}"

    like = client.post(f"{base}/like", headers=seller.headers)
    comment = client.post(f"{base}/comments", headers=seller.headers,
                          json={"body": "Back soon"})
    share = client.post(f"{base}/share", headers=seller.headers, json={"to": "followers"})

    assert (like.status_code, error_code(like)) == (409, "own_listing")
    assert (comment.status_code, error_code(comment)) == (409, "not_live")
    assert (share.status_code, error_code(share)) == (409, "not_live")
    assert client.get(f"{base}/likes", headers=seller.headers).get_json()["likes"] == 0
    assert client.get(f"{base}/comments", headers=seller.headers).get_json()["items"] == []
    assert _nothing_written()
