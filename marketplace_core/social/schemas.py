"""Request schemas and JSON shapes for likes, comments, shares, parties, the feed and
notifications."""
from __future__ import annotations

from flask import url_for

from marketplace_core.listings.models import Listing
from marketplace_core.listings.schemas import listing_summary
from marketplace_core.members.models import Member
from marketplace_core.social.models import Comment, Notification, Party, Share

# The length limit is a setting (COMMENT_MAX_LENGTH), checked by the service; this
# bound only keeps absurd bodies out before they reach it.
COMMENT = {"type": "object", "required": ["body"], "properties": {
    "body": {"type": "string", "minLength": 1, "maxLength": 5000,
             "description": "the comment; @username mentions notify that member"},
    "reply_to_id": {"type": "integer", "minimum": 1, "nullable": True,
                    "description": "the comment this one answers (same listing)"},
}}

SHARE = {"type": "object", "required": ["to"], "properties": {
    "to": {"type": "string", "enum": ["followers", "party"]},
    "party_id": {"type": "integer", "minimum": 1,
                 "description": "required when to is party; the party must be live and "
                                "the listing must fit its theme"},
}}

READ = {"type": "object", "properties": {
    "ids": {"type": "array", "maxItems": 200, "items": {"type": "integer", "minimum": 1},
            "description": "notifications to mark read (all must be yours)"},
    "all": {"type": "boolean", "description": "true marks every notification read"},
}}

PAGE_PARAMS = [
    {"name": "cursor", "schema": {"type": "string"}, "description": "the previous page's next"},
    {"name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
]
NOTIFICATION_PARAMS = [
    {"name": "unread", "schema": {"type": "boolean"}, "description": "only unread ones"},
    *PAGE_PARAMS,
]


def author_json(member: Member | None) -> dict | None:
    if member is None:
        return None
    return {"id": member.id, "username": member.username,
            "display_name": member.display_name}


def comment_json(comment: Comment, author: Member | None) -> dict:
    return {"id": comment.id, "listing_id": comment.listing_id, "body": comment.body,
            "author": author_json(author), "reply_to_id": comment.reply_to_id,
            "is_seller_reply": comment.is_seller_reply,
            "by_seller": comment.by_seller,
            "created_at": comment.created_at.isoformat()}


def listing_card(listing: Listing, likes: int) -> dict:
    return {**listing_summary(listing), "likes": likes}


def share_json(share: Share) -> dict:
    return {"id": share.id, "listing_id": share.listing_id, "to": share.target,
            "party_id": share.party_id, "created_at": share.created_at.isoformat()}


def party_json(party: Party, state: str) -> dict:
    return {"id": party.id, "title": party.title, "description": party.description,
            "host_id": party.host_id, "state": state,
            "starts_at": party.starts_at.isoformat(), "ends_at": party.ends_at.isoformat(),
            "theme": {"categories": party.categories, "departments": party.departments,
                      "brands": party.brand_keys, "min_price_paise": party.min_price_paise,
                      "max_price_paise": party.max_price_paise},
            "listings_url": url_for("api.social_party_listings", party_id=party.id)}


def notification_json(notification: Notification, actor: Member | None) -> dict:
    return {"id": notification.id, "kind": notification.kind, "actor": author_json(actor),
            "listing_id": notification.listing_id, "comment_id": notification.comment_id,
            "payload": notification.payload,
            "created_at": notification.created_at.isoformat(),
            "read": notification.read_at is not None,
            "read_at": notification.read_at.isoformat() if notification.read_at else None}
