"""Comments: questions and the seller's answers, limits, deletion and mentions."""
from __future__ import annotations

import pytest

from marketplace_core.social.models import Comment, Notification
from tests.builders import API
from tests.builders.rows import count
from tests.builders.social import (
    error_code,
    kinds,
    make_listing,
    notifications,
    register,
    set_status,
)


def _comment(client, account, listing_id, body, **extra):
    return client.post(f"{API}/listings/{listing_id}/comments", headers=account.headers,
                       json={"body": body, **extra})


def test_a_member_asks_and_the_seller_replies(client):
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = make_listing(seller)

    question = _comment(client, asha, listing_id, "  Is the blouse piece included?  ")
    answer = _comment(client, seller, listing_id, "Yes, unstitched.",
                      reply_to_id=question.get_json()["id"])

    assert question.status_code == answer.status_code == 201
    asked, answered = question.get_json(), answer.get_json()
    assert asked["body"] == "Is the blouse piece included?"
    assert (asked["is_seller_reply"], asked["by_seller"], asked["reply_to_id"]) == (
        False, False, None)
    assert (answered["is_seller_reply"], answered["by_seller"], answered["reply_to_id"]) == (
        True, True, asked["id"])
    listed = client.get(f"{API}/listings/{listing_id}/comments").get_json()
    assert [(c["author"]["username"], c["body"]) for c in listed["items"]] == [
        ("asha", "Is the blouse piece included?"), ("seller", "Yes, unstitched.")]
    assert [(n["kind"], n["comment_id"]) for n in notifications(client, seller)["items"]] == [
        ("comment", asked["id"])]
    assert [(n["kind"], n["comment_id"]) for n in notifications(client, asha)["items"]] == [
        ("reply", answered["id"])]


def test_a_member_replying_to_another_member_is_not_a_seller_reply(client):
    seller, asha, ravi = (register(client, n) for n in ("seller", "asha", "ravi"))
    listing_id = make_listing(seller)
    question = _comment(client, asha, listing_id, "Any stains?").get_json()

    reply = _comment(client, ravi, listing_id, "I bought from her, lovely condition",
                     reply_to_id=question["id"]).get_json()

    assert reply["is_seller_reply"] is False and reply["by_seller"] is False
    assert kinds(client, asha) == ["reply"]
    assert kinds(client, seller) == ["comment", "comment"]


def test_the_seller_may_comment_on_their_own_live_listing_without_notifying_themselves(client):
    seller = register(client, "seller")
    listing_id = make_listing(seller)

    response = _comment(client, seller, listing_id, "Price drop this weekend!")

    assert response.status_code == 201 and response.get_json()["by_seller"] is True
    assert response.get_json()["is_seller_reply"] is False
    assert kinds(client, seller) == []


def test_comment_length_limits(client, app):
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = make_listing(seller)
    limit = app.config["SETTINGS"].COMMENT_MAX_LENGTH

    at_limit = _comment(client, asha, listing_id, "a" * limit)
    over = _comment(client, asha, listing_id, "a" * (limit + 1))

    assert at_limit.status_code == 201
    assert over.status_code == 422 and over.get_json()["error"]["fields"] == {
        "body": f"at most {limit} characters"}
    assert count(Comment) == 1


@pytest.mark.parametrize("body", [
    {"body": ""},
    {"body": "   "},
    {"body": 42},
    {},
    {"body": "hello", "colour": "red"},
    {"body": "hello", "reply_to_id": "1"},
    {"body": "hello", "reply_to_id": 0},
    {"body": "x" * 5001},
    [],
])
def test_bad_comment_bodies_are_refused_and_nothing_is_written(client, body):
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = make_listing(seller)

    response = client.post(f"{API}/listings/{listing_id}/comments", headers=asha.headers,
                           json=body)

    assert 400 <= response.status_code < 500 and "error" in response.get_json()
    assert count(Comment) == 0 and count(Notification) == 0


def test_comments_need_json_and_a_member(client):
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = make_listing(seller)

    form = client.post(f"{API}/listings/{listing_id}/comments", headers=asha.headers,
                       data={"body": "hi"})
    anonymous = client.post(f"{API}/listings/{listing_id}/comments", json={"body": "hi"})

    assert form.status_code == 400 and error_code(form) == "unsupported_media_type"
    assert anonymous.status_code == 401
    assert count(Comment) == 0


def test_a_reply_must_answer_a_live_comment_on_the_same_listing(client):
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id, other_id = make_listing(seller), make_listing(seller, title="Other saree")
    elsewhere = _comment(client, asha, other_id, "Colour?").get_json()
    deleted = _comment(client, asha, listing_id, "Oops").get_json()
    client.delete(f"{API}/comments/{deleted['id']}", headers=asha.headers)

    for reply_to in (elsewhere["id"], deleted["id"], 999_999):
        response = _comment(client, seller, listing_id, "Answer", reply_to_id=reply_to)
        assert response.status_code == 422, reply_to
        assert "reply_to_id" in response.get_json()["error"]["fields"]
    assert count(Comment) == 2


def test_authors_and_sellers_delete_comments_others_cannot(client):
    seller, asha, ravi = (register(client, n) for n in ("seller", "asha", "ravi"))
    listing_id = make_listing(seller)
    mine = _comment(client, asha, listing_id, "Mine").get_json()
    rude = _comment(client, ravi, listing_id, "Rude words").get_json()

    by_stranger = client.delete(f"{API}/comments/{mine['id']}", headers=ravi.headers)
    by_author = client.delete(f"{API}/comments/{mine['id']}", headers=asha.headers)
    twice = client.delete(f"{API}/comments/{mine['id']}", headers=asha.headers)
    by_seller = client.delete(f"{API}/comments/{rude['id']}", headers=seller.headers)
    missing = client.delete(f"{API}/comments/999999", headers=asha.headers)

    assert (by_stranger.status_code, error_code(by_stranger)) == (403, "not_author")
    assert by_author.status_code == by_seller.status_code == 204
    assert twice.status_code == missing.status_code == 404
    assert client.get(f"{API}/listings/{listing_id}/comments").get_json()["items"] == []
    assert count(Comment, Comment.body != "") == 0  # the text is gone, not just hidden


def test_comments_on_a_listing_that_left_the_site_are_hidden_from_others(client):
    seller, asha, ravi = (register(client, n) for n in ("seller", "asha", "ravi"))
    listing_id = make_listing(seller)
    comment = _comment(client, asha, listing_id, "Is it silk mark certified?").get_json()
    set_status(seller, listing_id, "sold")

    assert client.get(f"{API}/listings/{listing_id}/comments").status_code == 404
    assert client.delete(f"{API}/comments/{comment['id']}",
                         headers=ravi.headers).status_code == 404
    assert len(client.get(f"{API}/listings/{listing_id}/comments",
                          headers=seller.headers).get_json()["items"]) == 1
    assert client.delete(f"{API}/comments/{comment['id']}",
                         headers=asha.headers).status_code == 204


def test_comments_page_oldest_first(client):
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = make_listing(seller)
    ids = [_comment(client, asha, listing_id, f"Question {n}").get_json()["id"]
           for n in range(5)]

    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{API}/listings/{listing_id}/comments",
                          query_string=query).get_json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break

    assert seen == ids
    bad = client.get(f"{API}/listings/{listing_id}/comments?cursor=%%%")
    assert bad.status_code == 422


def test_mentions_notify_the_members_named_once_each(client):
    seller, asha, ravi, meera = (register(client, n)
                                 for n in ("seller", "asha", "ravi", "meera"))
    listing_id = make_listing(seller)

    _comment(client, asha, listing_id,
             "@Ravi @ravi look! @meera too, cc @seller and @asha, not @nobody_here or "
             "email me at asha@example.in")

    assert kinds(client, ravi) == ["mention"]
    assert kinds(client, meera) == ["mention"]
    assert kinds(client, seller) == ["comment"]  # the seller hears once, as the seller
    assert kinds(client, asha) == []


def test_mentions_are_capped(client, app):
    seller, asha = register(client, "seller"), register(client, "asha")
    names = [f"fan{n}" for n in range(app.config["SETTINGS"].COMMENT_MAX_MENTIONS + 2)]
    fans = [register(client, name) for name in names]
    listing_id = make_listing(seller)

    _comment(client, asha, listing_id, " ".join(f"@{name}" for name in names))

    told = [fan for fan in fans if kinds(client, fan) == ["mention"]]
    assert len(told) == app.config["SETTINGS"].COMMENT_MAX_MENTIONS
