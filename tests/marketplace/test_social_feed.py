"""The following feed: contents, ordering, de-duplication, liveness and pages."""
from __future__ import annotations

from datetime import timedelta

from foundation import clock
from tests.builders import API
from tests.builders.social import T0, follow, listing_in, make_listing, register, set_status


def _feed(client, account, **params) -> dict:
    response = client.get(f"{API}/feed", headers=account.headers, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _at(minutes: int) -> None:
    clock.freeze(T0 + timedelta(minutes=minutes))


def _share(client, account, listing_id) -> None:
    response = client.post(f"{API}/listings/{listing_id}/share", headers=account.headers,
                           json={"to": "followers"})
    assert response.status_code == 201, response.get_json()


def test_the_feed_shows_new_listings_and_shares_from_followed_closets_newest_first(client):
    _at(0)
    me, asha, ravi, stranger = (register(client, n) for n in ("meena", "asha", "ravi", "stranger"))
    follow(client, me, asha)
    follow(client, me, ravi)
    _at(1)
    ashas = make_listing(asha, title="Asha's saree")
    _at(2)
    strangers = make_listing(stranger, title="Stranger's kurta")
    _at(3)
    ravis = make_listing(ravi, title="Ravi's sherwani")
    _at(4)
    make_listing(stranger, title="Stranger's unshared bag")
    _at(5)
    _share(client, asha, strangers)
    _at(6)

    items = _feed(client, me)["items"]

    assert [(i["listing"]["id"], i["activity"], i["actor"]["username"]) for i in items] == [
        (strangers, "shared", "asha"), (ravis, "listed", "ravi"), (ashas, "listed", "asha")]
    assert items[0]["at"] == (T0 + timedelta(minutes=5)).isoformat()
    assert items[0]["listing"]["likes"] == 0
    assert _feed(client, stranger)["items"] == []


def test_each_listing_appears_once_at_its_newest_activity(client):
    _at(0)
    me, asha, ravi = (register(client, n) for n in ("meena", "asha", "ravi"))
    follow(client, me, asha)
    follow(client, me, ravi)
    _at(1)
    saree = make_listing(asha, title="Asha's saree")
    _at(2)
    kurta = make_listing(asha, title="Asha's kurta")
    _at(3)
    _share(client, ravi, saree)
    _at(4)
    _share(client, asha, saree)
    _at(5)
    _share(client, ravi, kurta)

    items = _feed(client, me)["items"]

    assert [(i["listing"]["id"], i["activity"], i["actor"]["username"], i["at"])
            for i in items] == [
        (kurta, "shared", "ravi", (T0 + timedelta(minutes=5)).isoformat()),
        (saree, "shared", "asha", (T0 + timedelta(minutes=4)).isoformat())]


def test_nothing_that_is_not_live_reaches_the_feed(client):
    _at(0)
    me, asha = register(client, "meena"), register(client, "asha")
    follow(client, me, asha)
    for status in ("draft", "pending_authentication", "sold", "removed"):
        listing_in(asha, status, title=f"Asha's {status} saree")
    shared_then_sold = make_listing(asha, title="Shared then sold")
    _at(1)
    _share(client, asha, shared_then_sold)
    set_status(asha, shared_then_sold, "sold")
    live = make_listing(asha, title="Still live")

    assert [i["listing"]["id"] for i in _feed(client, me)["items"]] == [live]


def test_unfollowing_empties_the_feed_and_old_activity_falls_out(client, app):
    window = timedelta(days=app.config["SETTINGS"].FEED_WINDOW_DAYS)
    clock.freeze(T0 + window - timedelta(seconds=1))  # tokens younger than the window
    me, asha = register(client, "meena"), register(client, "asha")
    follow(client, me, asha)
    clock.freeze(T0)
    old = make_listing(asha, title="Old saree")

    clock.freeze(T0 + window - timedelta(seconds=1))
    assert [i["listing"]["id"] for i in _feed(client, me)["items"]] == [old]
    clock.freeze(T0 + window + timedelta(seconds=1))
    assert _feed(client, me)["items"] == []
    _share(client, asha, old)  # a fresh share brings it back
    assert [i["listing"]["id"] for i in _feed(client, me)["items"]] == [old]

    client.delete(f"{API}/closets/asha/follow", headers=me.headers)
    assert _feed(client, me)["items"] == []


def test_the_feed_pages_without_gaps_or_repeats_even_while_closets_share(client):
    _at(0)
    me, asha = register(client, "meena"), register(client, "asha")
    follow(client, me, asha)
    listings = []
    for n in range(5):
        _at(n + 1)
        listings.append(make_listing(asha, title=f"Saree number {n}"))
    # Two listings published in the same instant: the id breaks the tie.
    same_moment = [make_listing(asha, title=f"Twin saree {n}") for n in range(2)]

    first = _feed(client, me, limit=3)
    _at(30)
    _share(client, asha, listings[0])  # jumps to the top: not repeated on a later page
    second = _feed(client, me, limit=3, cursor=first["next"])
    top = _feed(client, me, limit=1)

    assert [i["listing"]["id"] for i in first["items"]] == [
        same_moment[1], same_moment[0], listings[4]]
    assert [i["listing"]["id"] for i in second["items"]] == [
        listings[3], listings[2], listings[1]]
    assert second["next"] is None
    assert [(i["listing"]["id"], i["activity"]) for i in top["items"]] == [
        (listings[0], "shared")]


def test_the_feed_is_for_members_and_checks_its_cursor(client):
    me = register(client, "meena")
    assert client.get(f"{API}/feed").status_code == 401
    for query in ("cursor=nonsense", "cursor=WyJ5ZXN0ZXJkYXkiLCAxXQ", "limit=-1"):
        response = client.get(f"{API}/feed?{query}", headers=me.headers)
        assert response.status_code == 422, query
