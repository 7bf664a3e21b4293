"""Likes: idempotent likes and unlikes, counts, "my likes", and the price-drop watch."""
from __future__ import annotations

from datetime import timedelta

from foundation import clock
from marketplace_core.social.models import Like, Notification
from tests.builders import API
from tests.builders.rows import count
from tests.builders.social import (
    KURTA,
    T0,
    error_code,
    kinds,
    make_listing,
    notifications,
    register,
    set_status,
)


def test_liking_is_idempotent_and_counted(client):
    seller, asha, ravi = (register(client, n) for n in ("seller", "asha", "ravi"))
    listing_id = make_listing(seller)

    first = client.post(f"{API}/listings/{listing_id}/like", headers=asha.headers)
    again = client.post(f"{API}/listings/{listing_id}/like", headers=asha.headers)
    client.post(f"{API}/listings/{listing_id}/like", headers=ravi.headers)

    assert first.status_code == 200 and first.get_json() == {
        "listing_id": listing_id, "liked": True, "likes": 1}
    assert again.get_json()["likes"] == 1
    mine = client.get(f"{API}/listings/{listing_id}/likes", headers=asha.headers).get_json()
    anonymous = client.get(f"{API}/listings/{listing_id}/likes").get_json()
    sellers = client.get(f"{API}/listings/{listing_id}/likes", headers=seller.headers)
    assert mine == {"listing_id": listing_id, "likes": 2, "liked_by_me": True}
    assert anonymous == {"listing_id": listing_id, "likes": 2, "liked_by_me": False}
    assert sellers.get_json()["liked_by_me"] is False
    assert count(Like) == 2


def test_unliking_is_idempotent(client):
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = make_listing(seller)
    client.post(f"{API}/listings/{listing_id}/like", headers=asha.headers)

    first = client.delete(f"{API}/listings/{listing_id}/like", headers=asha.headers)
    again = client.delete(f"{API}/listings/{listing_id}/like", headers=asha.headers)

    assert first.status_code == again.status_code == 200
    assert first.get_json() == {"listing_id": listing_id, "liked": False}
    assert client.get(f"{API}/listings/{listing_id}/likes").get_json()["likes"] == 0


def test_a_like_can_be_removed_after_the_listing_sold_but_not_added(client):
    seller, asha, ravi = (register(client, n) for n in ("seller", "asha", "ravi"))
    listing_id = make_listing(seller)
    client.post(f"{API}/listings/{listing_id}/like", headers=asha.headers)
    set_status(seller, listing_id, "sold")

    assert client.delete(f"{API}/listings/{listing_id}/like",
                         headers=asha.headers).status_code == 200
    assert client.delete(f"{API}/listings/{listing_id}/like",
                         headers=ravi.headers).status_code == 404
    assert client.post(f"{API}/listings/{listing_id}/like",
                       headers=ravi.headers).status_code == 404
    assert count(Like) == 0


def test_sellers_cannot_like_their_own_listing(client):
    seller = register(client, "seller")
    listing_id = make_listing(seller)

    response = client.post(f"{API}/listings/{listing_id}/like", headers=seller.headers)

    assert response.status_code == 409 and error_code(response) == "own_listing"
    assert count(Like) == 0


def test_likes_need_a_member_and_an_existing_listing(client):
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = make_listing(seller)

    anonymous = client.post(f"{API}/listings/{listing_id}/like")
    missing = client.post(f"{API}/listings/999999/like", headers=asha.headers)
    missing_count = client.get(f"{API}/listings/999999/likes")

    assert anonymous.status_code == 401 and error_code(anonymous) == "not_authenticated"
    assert missing.status_code == 404 and missing_count.status_code == 404
    assert count(Like) == 0


def test_the_seller_hears_about_a_like_once(client):
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = make_listing(seller)
    for _ in range(2):
        client.post(f"{API}/listings/{listing_id}/like", headers=asha.headers)
        client.delete(f"{API}/listings/{listing_id}/like", headers=asha.headers)
    client.post(f"{API}/listings/{listing_id}/like", headers=asha.headers)

    items = notifications(client, seller)["items"]
    assert [(n["kind"], n["actor"]["username"], n["listing_id"]) for n in items] == [
        ("like", "asha", listing_id)]
    assert kinds(client, asha) == []


def test_my_likes_lists_live_likes_newest_first_in_pages(client):
    clock.freeze(T0)
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_ids = [make_listing(seller, title=f"Saree number {n}") for n in range(4)]
    for minutes, listing_id in enumerate(listing_ids):
        clock.freeze(T0 + timedelta(minutes=minutes))
        client.post(f"{API}/listings/{listing_id}/like", headers=asha.headers)
    set_status(seller, listing_ids[1], "removed")

    first = client.get(f"{API}/me/likes?limit=2", headers=asha.headers).get_json()
    second = client.get(f"{API}/me/likes?limit=2&cursor={first['next']}",
                        headers=asha.headers).get_json()

    assert [i["id"] for i in first["items"]] == [listing_ids[3], listing_ids[2]]
    assert [i["id"] for i in second["items"]] == [listing_ids[0]]
    assert second["next"] is None
    assert first["items"][0]["likes"] == 1
    assert first["items"][0]["liked_at"] == (T0 + timedelta(minutes=3)).isoformat()


def test_my_likes_refuses_bad_paging(client):
    asha = register(client, "asha")
    for query in ("cursor=not-a-cursor", "limit=0", "limit=101", "limit=abc",
                  "cursor=WzEsMl0"):  # [1, 2]: an id where a time belongs
        response = client.get(f"{API}/me/likes?{query}", headers=asha.headers)
        assert response.status_code == 422, query
        assert "error" in response.get_json()
    assert client.get(f"{API}/me/likes").status_code == 401


def test_a_price_drop_notifies_likers_only(client):
    seller, asha, ravi, meera = (register(client, n)
                                 for n in ("seller", "asha", "ravi", "meera"))
    listing_id = make_listing(seller, **KURTA)
    other_id = make_listing(seller, title="Another kurta")
    for liker in (asha, ravi):
        client.post(f"{API}/listings/{listing_id}/like", headers=liker.headers)
    client.post(f"{API}/listings/{other_id}/like", headers=meera.headers)

    dropped = client.patch(f"{API}/listings/{listing_id}", headers=seller.headers,
                           json={"price_paise": 99_900})

    assert dropped.status_code == 200
    for liker in (asha, ravi):
        items = notifications(client, liker)["items"]
        assert [(n["kind"], n["listing_id"], n["actor"]["username"]) for n in items] == [
            ("price_drop", listing_id, "seller")]
        assert items[0]["payload"] == {"title": KURTA["title"], "old_price_paise": 120_000,
                                       "new_price_paise": 99_900}
        assert items[0]["read"] is False
    assert kinds(client, meera) == []
    assert "price_drop" not in kinds(client, seller)


def test_a_price_rise_or_an_edit_that_keeps_the_price_tells_nobody(client):
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = make_listing(seller)
    client.post(f"{API}/listings/{listing_id}/like", headers=asha.headers)

    client.patch(f"{API}/listings/{listing_id}", headers=seller.headers,
                 json={"price_paise": 500_000})
    client.patch(f"{API}/listings/{listing_id}", headers=seller.headers,
                 json={"title": "Banarasi silk saree, red"})

    assert count(Notification, Notification.kind == "price_drop") == 0
