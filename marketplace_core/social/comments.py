"""Comments under a listing: members ask, the seller answers.

- Only on live listings (the seller may comment on their own live listing too).
- A reply names the comment it answers; a reply written by the seller is marked.
- No editing: an answer is given to the question as it stood, so a question that
  could change under its answer would mislead.  Delete and write again instead.
- The author may delete their comment, and the seller may delete any comment under
  their listing (it is their storefront).  The text is wiped; the row stays so that
  replies keep their reference.
- @mentions of existing members notify them (at most COMMENT_MAX_MENTIONS per comment).
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation import clock
from foundation.config import current as settings
from foundation.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace_core.listings import services as listings
from marketplace_core.listings.models import Listing, ListingStatus
from marketplace_core.members.models import Member
from marketplace_core.social import cursors
from marketplace_core.social.models import Comment, NotificationKind
from marketplace_core.social.notifications import notify

MENTION_RE = re.compile(r"(?<![\w.@])@([a-z0-9_.]{3,30})", re.IGNORECASE)


def add_comment(s: Session, author: Member, listing_id: int, body: str,
                reply_to_id: int | None = None) -> Comment:
    listing = listings.get_for_viewer(s, listing_id, author)
    if listing.status != ListingStatus.LIVE:
        raise Conflict(f"Comments are open only while a listing is live; this one is "
                       f"{listing.status}.", code="not_live")
    text = _checked_body(body)
    answered = _answered_comment(s, listing, reply_to_id) if reply_to_id is not None else None
    comment = Comment(listing_id=listing.id, author_id=author.id, body=text,
                      reply_to_id=answered.id if answered else None,
                      is_seller_reply=answered is not None and author.id == listing.seller_id,
                      created_at=clock.now())
    s.add(comment)
    s.flush()
    _notify_about(s, comment, listing, answered)
    return comment


def _checked_body(body: str) -> str:
    text = body.strip()
    limit = settings().COMMENT_MAX_LENGTH
    if not text:
        raise ValidationFailed("Write something first.", fields={"body": "required"})
    if len(text) > limit:
        raise ValidationFailed(f"Comments are at most {limit} characters.",
                               fields={"body": f"at most {limit} characters"})
    return text


def _answered_comment(s: Session, listing: Listing, reply_to_id: int) -> Comment:
    answered = s.get(Comment, reply_to_id)
    if answered is None or answered.listing_id != listing.id or answered.deleted_at:
        raise ValidationFailed("You can only reply to a comment on this listing.",
                               fields={"reply_to_id": "no such comment on this listing"})
    return answered


def _notify_about(s: Session, comment: Comment, listing: Listing,
                  answered: Comment | None) -> None:
    """One notification per recipient: a reply outranks a comment, which outranks a
    mention (the seller mentioned under their own listing hears once)."""
    told: set[int] = {comment.author_id}
    refs = {"actor_id": comment.author_id, "listing_id": listing.id,
            "comment_id": comment.id}
    payload = {"title": listing.title, "excerpt": comment.body[:80]}
    if answered is not None and answered.author_id not in told:
        notify(s, answered.author_id, NotificationKind.REPLY, payload=payload, **refs)
        told.add(answered.author_id)
    if listing.seller_id not in told:
        notify(s, listing.seller_id, NotificationKind.COMMENT, payload=payload, **refs)
        told.add(listing.seller_id)
    for member_id in _mentioned_ids(s, comment.body):
        if member_id not in told:
            notify(s, member_id, NotificationKind.MENTION, payload=payload, **refs)
            told.add(member_id)


def _mentioned_ids(s: Session, body: str) -> list[int]:
    names = list(dict.fromkeys(m.lower() for m in MENTION_RE.findall(body)))
    names = names[:settings().COMMENT_MAX_MENTIONS]
    if not names:
        return []
    return list(s.scalars(select(Member.id).where(Member.username.in_(names),
                                                  Member.is_active.is_(True))))


def delete_comment(s: Session, member: Member, comment_id: int) -> Comment:
    comment = s.get(Comment, comment_id)
    if comment is None or comment.deleted_at is not None:
        raise NotFound("No such comment.")
    listing = s.get(Listing, comment.listing_id)
    if member.id not in (comment.author_id, listing.seller_id):
        if not listings.is_visible_to(listing, member):
            raise NotFound("No such comment.")
        raise PermissionDenied("Only its author or the seller can delete a comment.",
                               code="not_author")
    comment.deleted_at = clock.now()
    comment.body = ""
    s.flush()
    return comment


def list_comments(s: Session, viewer: Member | None, listing_id: int, *,
                  cursor: str | None = None, limit: int = 50
                  ) -> tuple[list[Comment], str | None]:
    """The conversation in the order it happened, oldest first; deleted ones left out."""
    listing = listings.get_for_viewer(s, listing_id, viewer)
    statement = select(Comment).where(Comment.listing_id == listing.id,
                                      Comment.deleted_at.is_(None))
    if cursor:
        (last_id,) = cursors.decode(cursor, int)
        statement = statement.where(Comment.id > last_id)
    rows = list(s.scalars(statement.order_by(Comment.id).limit(limit + 1)))
    next_cursor = cursors.encode(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor
