"""Social API: likes, comments, shares, Posh Parties, the following feed, notifications."""
from __future__ import annotations

from flask import jsonify, request

from foundation import db
from foundation.errors import ValidationFailed
from foundation.schema import query_int, validate
from foundation.web import json_body
from marketplace_core.api import api_route, current_member
from marketplace_core.social import schemas, services

TAG = "Social"
PARTY_TAG = "Posh Parties"
NOTIFICATION_TAG = "Notifications"


def _page_args() -> dict:
    return {"cursor": request.args.get("cursor") or None,
            "limit": query_int(request.args, "limit", minimum=1, maximum=100, default=24)}


def _query_bool(name: str) -> bool:
    raw = request.args.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ValidationFailed(f"{name} must be true or false.", fields={name: "true or false"})


def _cards(s, listings) -> list[dict]:
    counts = services.like_counts(s, [listing.id for listing in listings])
    return [schemas.listing_card(listing, counts[listing.id]) for listing in listings]


# --- likes ---------------------------------------------------------------------------

@api_route("/listings/<int:listing_id>/like", "POST", summary="Like a live listing (you "
           "hear when its price drops); liking twice is harmless", tag=TAG,
           responses={200: "liked, with the like count", 404: "no such live listing",
                      409: "your own listing"})
def like(listing_id: int):
    s = db.session()
    services.like(s, current_member(), listing_id)
    return jsonify({"listing_id": listing_id, "liked": True,
                    "likes": services.like_count(s, listing_id)})


@api_route("/listings/<int:listing_id>/like", "DELETE", summary="Unlike a listing; "
           "unliking twice is harmless", tag=TAG,
           responses={200: "not liked", 404: "no such listing"})
def unlike(listing_id: int):
    services.unlike(db.session(), current_member(), listing_id)
    return jsonify({"listing_id": listing_id, "liked": False})


@api_route("/listings/<int:listing_id>/likes", "GET", summary="A listing's like count and "
           "whether you like it", tag=TAG, auth="optional",
           responses={200: "count", 404: "no such live listing"})
def likes(listing_id: int):
    count, mine = services.like_summary(db.session(), current_member(), listing_id)
    return jsonify({"listing_id": listing_id, "likes": count, "liked_by_me": mine})


@api_route("/me/likes", "GET", summary="Your liked listings that are still live, most "
           "recently liked first", tag=TAG, query=schemas.PAGE_PARAMS)
def my_likes():
    s = db.session()
    rows, next_cursor = services.liked_listings(s, current_member(), **_page_args())
    cards = _cards(s, [listing for listing, _ in rows])
    items = [{**card, "liked_at": liked_at.isoformat()}
             for card, (_, liked_at) in zip(cards, rows, strict=True)]
    return jsonify({"items": items, "next": next_cursor})


# --- comments ------------------------------------------------------------------------

@api_route("/listings/<int:listing_id>/comments", "GET", summary="A listing's comments, "
           "oldest first", tag=TAG, auth="optional", query=schemas.PAGE_PARAMS,
           responses={200: "comments", 404: "no such live listing"})
def comments(listing_id: int):
    s = db.session()
    rows, next_cursor = services.list_comments(s, current_member(), listing_id,
                                               **_page_args())
    authors = services.members_by_id(s, (c.author_id for c in rows))
    return jsonify({"items": [schemas.comment_json(c, authors.get(c.author_id))
                              for c in rows], "next": next_cursor})


@api_route("/listings/<int:listing_id>/comments", "POST", summary="Comment on a live "
           "listing, or reply to a comment (the seller's replies are marked); no editing, "
           "delete and write again", tag=TAG, body=schemas.COMMENT,
           responses={201: "the comment", 404: "no such live listing",
                      409: "your own listing is not live",
                      422: "empty, too long, or a reply to a comment not on this listing"})
def add_comment(listing_id: int):
    data = validate(schemas.COMMENT, json_body())
    comment = services.add_comment(db.session(), current_member(), listing_id, data["body"],
                                   data.get("reply_to_id"))
    return jsonify(schemas.comment_json(comment, current_member())), 201


@api_route("/comments/<int:comment_id>", "DELETE", summary="Delete a comment (its author, "
           "or the seller of the listing)", tag=TAG,
           responses={204: "deleted", 403: "not yours", 404: "no such comment"})
def delete_comment(comment_id: int):
    services.delete_comment(db.session(), current_member(), comment_id)
    return "", 204


# --- shares --------------------------------------------------------------------------

@api_route("/listings/<int:listing_id>/share", "POST", summary="Share a live listing to "
           "your followers, or into a live Posh Party whose theme it fits", tag=TAG,
           body=schemas.SHARE,
           responses={201: "the share", 404: "no such live listing or party",
                      409: "the party is not live, or your listing is not",
                      422: "the listing does not fit the party's theme (code not_in_theme)"})
def share(listing_id: int):
    data = validate(schemas.SHARE, json_body())
    s = db.session()
    if data["to"] == "party":
        if data.get("party_id") is None:
            raise ValidationFailed("Name the party.", fields={"party_id": "required"})
        made = services.share_to_party(s, current_member(), listing_id, data["party_id"])
    else:
        if data.get("party_id") is not None:
            raise ValidationFailed("party_id goes with to=party.",
                                   fields={"party_id": "only with to=party"})
        made = services.share_to_followers(s, current_member(), listing_id)
    return jsonify(schemas.share_json(made)), 201


# --- parties -------------------------------------------------------------------------

@api_route("/parties", "GET", summary="Live and upcoming Posh Parties, soonest first",
           tag=PARTY_TAG, auth="optional", query=schemas.PAGE_PARAMS)
def parties():
    rows, next_cursor = services.current_parties(db.session(), **_page_args())
    return jsonify({"items": [schemas.party_json(p, services.state(p)) for p in rows],
                    "next": next_cursor})


@api_route("/parties/<int:party_id>", "GET", summary="A Posh Party and its theme",
           tag=PARTY_TAG, auth="optional", responses={200: "the party", 404: "no such party"})
def party(party_id: int):
    found = services.get_party(db.session(), party_id)
    return jsonify(schemas.party_json(found, services.state(found)))


@api_route("/parties/<int:party_id>/listings", "GET", summary="Listings shared into the "
           "party that are still live, newest share first", tag=PARTY_TAG, auth="optional",
           query=schemas.PAGE_PARAMS, responses={200: "listings", 404: "no such party"})
def party_listings(party_id: int):
    s = db.session()
    found = services.get_party(s, party_id)
    rows, next_cursor = services.party_listings(s, found, **_page_args())
    return jsonify({"party": schemas.party_json(found, services.state(found)),
                    "items": _cards(s, rows), "next": next_cursor})


# --- feed ----------------------------------------------------------------------------

@api_route("/feed", "GET", summary="New listings and shares from closets you follow, "
           "newest first, each listing once", tag=TAG, query=schemas.PAGE_PARAMS)
def feed():
    s = db.session()
    items, next_cursor = services.following_feed(s, current_member(), **_page_args())
    cards = _cards(s, [item.listing for item in items])
    actors = services.members_by_id(s, (item.actor_id for item in items))
    return jsonify({"items": [
        {"listing": card, "activity": item.activity, "at": item.at.isoformat(),
         "actor": schemas.author_json(actors.get(item.actor_id))}
        for card, item in zip(cards, items, strict=True)], "next": next_cursor})


# --- notifications -------------------------------------------------------------------

@api_route("/notifications", "GET", summary="Your notifications, newest first, with the "
           "unread count", tag=NOTIFICATION_TAG, query=schemas.NOTIFICATION_PARAMS)
def notifications():
    s = db.session()
    member = current_member()
    rows, next_cursor = services.list_for(s, member, unread_only=_query_bool("unread"),
                                          **_page_args())
    actors = services.members_by_id(s, (n.actor_id for n in rows))
    return jsonify({"items": [schemas.notification_json(n, actors.get(n.actor_id))
                              for n in rows],
                    "next": next_cursor, "unread": services.unread_count(s, member)})


@api_route("/notifications/read", "POST", summary="Mark notifications read: {\"ids\": "
           "[...]} or {\"all\": true}", tag=NOTIFICATION_TAG, body=schemas.READ,
           responses={200: "how many changed, and the unread count left",
                      422: "neither or both given, or ids that are not yours"})
def read_notifications():
    data = validate(schemas.READ, json_body())
    if ("ids" in data) == bool(data.get("all")):
        raise ValidationFailed("Send either ids or all: true.",
                               fields={"ids": "either ids or all: true"})
    s = db.session()
    member = current_member()
    if data.get("all"):
        marked = services.mark_all_read(s, member)
    else:
        marked = services.mark_read(s, member, data["ids"])
    return jsonify({"marked": marked, "unread": services.unread_count(s, member)})
