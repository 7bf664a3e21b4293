"""In-app notifications: what makes one, the list, paging and read state."""
from __future__ import annotations

import pytest

from marketplace_core.social.models import Notification
from tests.builders import API
from tests.builders.rows import count
from tests.builders.social import follow, kinds, make_listing, notifications, register


def _read(client, account, body):
    return client.post(f"{API}/notifications/read", headers=account.headers, json=body)


def _busy_seller(client):
    """A seller with four notifications: a follower, a like, a comment and a share."""
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = make_listing(seller)
    follow(client, asha, seller)
    client.post(f"{API}/listings/{listing_id}/like", headers=asha.headers)
    client.post(f"{API}/listings/{listing_id}/comments", headers=asha.headers,
                json={"body": "Lovely zari work"})
    client.post(f"{API}/listings/{listing_id}/share", headers=asha.headers,
                json={"to": "followers"})
    return seller, asha


def test_a_new_follower_is_announced_once(client):
    seller, asha = register(client, "seller"), register(client, "asha")

    follow(client, asha, seller)
    follow(client, asha, seller)
    client.delete(f"{API}/closets/seller/follow", headers=asha.headers)
    follow(client, asha, seller)

    items = notifications(client, seller)["items"]
    assert [(n["kind"], n["actor"]["username"], n["listing_id"]) for n in items] == [
        ("new_follower", "asha", None)]
    assert kinds(client, asha) == []


def test_notifications_come_newest_first_with_the_unread_count(client):
    seller, _ = _busy_seller(client)

    body = notifications(client, seller)

    assert [n["kind"] for n in body["items"]] == ["share", "comment", "like", "new_follower"]
    assert body["unread"] == 4 and body["next"] is None
    assert all(n["read"] is False and n["read_at"] is None for n in body["items"])
    assert body["items"][1]["payload"]["excerpt"] == "Lovely zari work"


def test_notifications_page_by_cursor(client):
    seller, _ = _busy_seller(client)

    first = notifications(client, seller, limit=3)
    second = notifications(client, seller, limit=3, cursor=first["next"])

    assert [n["kind"] for n in first["items"] + second["items"]] == [
        "share", "comment", "like", "new_follower"]
    assert second["next"] is None


def test_marking_some_read(client):
    seller, _ = _busy_seller(client)
    items = notifications(client, seller)["items"]

    response = _read(client, seller, {"ids": [items[0]["id"], items[2]["id"]]})
    again = _read(client, seller, {"ids": [items[0]["id"]]})

    assert response.status_code == 200 and response.get_json() == {"marked": 2, "unread": 2}
    assert again.get_json() == {"marked": 0, "unread": 2}
    after = notifications(client, seller)
    assert [n["read"] for n in after["items"]] == [True, False, True, False]
    unread = notifications(client, seller, unread="true")
    assert [n["kind"] for n in unread["items"]] == ["comment", "new_follower"]
    assert unread["unread"] == 2


def test_marking_all_read_touches_only_my_notifications(client):
    seller, asha = _busy_seller(client)
    client.post(f"{API}/closets/seller/follow", headers=asha.headers)
    follow(client, seller, asha)

    response = _read(client, seller, {"all": True})

    assert response.get_json() == {"marked": 4, "unread": 0}
    assert notifications(client, asha)["unread"] == 1
    assert notifications(client, seller, unread="1")["items"] == []


def test_someone_elses_notifications_cannot_be_marked(client):
    seller, asha = _busy_seller(client)
    theirs = notifications(client, seller)["items"][0]["id"]
    follow(client, seller, asha)
    mine = notifications(client, asha)["items"][0]["id"]

    response = _read(client, asha, {"ids": [mine, theirs]})

    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"ids": f"unknown: {theirs}"}
    assert count(Notification, Notification.read_at.is_not(None)) == 0


@pytest.mark.parametrize("body", [
    {}, {"all": False}, {"ids": []}, {"ids": [1], "all": True}, {"ids": "1"},
    {"ids": [1.5]}, {"ids": [True]}, {"all": "yes"}, {"ids": list(range(1, 300))},
    {"ids": [1], "extra": 1}, ["ids"],
])
def test_bad_read_requests_are_refused_and_change_nothing(client, body):
    seller, _ = _busy_seller(client)

    response = _read(client, seller, body)

    assert response.status_code in (400, 422) and "error" in response.get_json()
    assert notifications(client, seller)["unread"] == 4


def test_notifications_are_for_members_and_check_their_parameters(client):
    seller = register(client, "seller")
    assert client.get(f"{API}/notifications").status_code == 401
    assert client.post(f"{API}/notifications/read", json={"all": True}).status_code == 401
    for query in ("unread=maybe", "cursor=zzz", "limit=1000"):
        response = client.get(f"{API}/notifications?{query}", headers=seller.headers)
        assert response.status_code == 422, query
