"""Authentication requests, reviewers' decisions, strikes and the routing data.

One `AuthenticationRequest` is one review of one listing: at most one is active per
listing (a partial unique index), and re-announcements of the same listing reuse it.
Every transition writes a `RequestEvent`; every verdict a `ReviewDecision`.

    queued / escalated / awaiting_second_review / awaiting_lead   (queues)
        --claim--> claimed (claimed_from remembers the queue) --release--> back to it
    claimed --decision--> queued-elsewhere | awaiting_photos | closed_*
    awaiting_photos --seller uploads--> queued (front) | --deadline--> closed_rejected
    any active --listing withdrawn or no longer needing review--> cancelled

Listings and staff live in other packages; their ids are foreign keys because those
tables are migrated before ours.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from foundation import clock
from foundation.db import Base, JSONType, UTCDateTime
from foundation.leases import LeaseColumns


class RequestState(enum.StrEnum):
    QUEUED = "queued"                                # first review, any authenticator
    CLAIMED = "claimed"                              # held under a lease
    AWAITING_PHOTOS = "awaiting_photos"              # the seller was asked; SLA paused
    ESCALATED = "escalated"                          # first review by seniors only
    AWAITING_SECOND_REVIEW = "awaiting_second_review"  # four eyes: a senior, not the first
    AWAITING_LEAD = "awaiting_lead"                  # reviewers disagreed: a lead decides
    CLOSED_AUTHENTIC = "closed_authentic"
    CLOSED_COUNTERFEIT = "closed_counterfeit"
    CLOSED_REJECTED = "closed_rejected"              # no photos in time
    CANCELLED = "cancelled"                          # the listing no longer needs review


CLOSED_STATES = (RequestState.CLOSED_AUTHENTIC, RequestState.CLOSED_COUNTERFEIT,
                 RequestState.CLOSED_REJECTED, RequestState.CANCELLED)
QUEUE_STATES = (RequestState.QUEUED, RequestState.ESCALATED,
                RequestState.AWAITING_SECOND_REVIEW, RequestState.AWAITING_LEAD)
# States in which the SLA clock runs (awaiting_photos pauses it).
CLOCK_RUNNING_STATES = (*QUEUE_STATES, RequestState.CLAIMED)
_WAITING_SQL = ("state IN ('queued', 'escalated', 'awaiting_second_review', "
                "'awaiting_lead')")
_ACTIVE_SQL = "state NOT IN ({})".format(", ".join(f"'{state}'" for state in CLOSED_STATES))


class Reason(enum.StrEnum):
    PUBLISHED = "published"
    PRICE_RAISED = "price_raised"
    PHOTOS_CHANGED = "photos_changed"
    RELISTED = "relisted"
    DISPUTE = "dispute"        # a buyer's "not authentic" case on a sold item
    RISK = "risk"              # under the threshold, but the counterfeit-risk score is high


class Verdict(enum.StrEnum):
    AUTHENTIC = "authentic"
    COUNTERFEIT = "counterfeit"
    NEEDS_MORE_PHOTOS = "needs_more_photos"
    ESCALATE = "escalate"


class Stage(enum.StrEnum):
    FIRST = "first"
    SECOND = "second"
    LEAD = "lead"


CHECK_POINTS = ("logo", "stitching", "hardware", "serial_date_code", "materials", "lining",
                "packaging")
CHECK_RESULTS = ("pass", "fail", "na")
# Which points an authenticator must assess per category (the rest do not apply).
_GARMENT = ("logo", "stitching", "materials", "lining")
_BAG = ("logo", "stitching", "hardware", "serial_date_code", "materials", "lining",
        "packaging")
_SHOE = ("logo", "stitching", "materials", "lining", "packaging")
CHECKLISTS: dict[str, tuple[str, ...]] = {
    "sarees": ("logo", "materials", "packaging"),
    "kurtas": _GARMENT, "lehengas": _GARMENT, "sherwanis": _GARMENT,
    "salwar_suits": _GARMENT, "dresses": _GARMENT, "tops": _GARMENT, "jackets": _GARMENT,
    "jeans": ("logo", "stitching", "hardware", "materials"),
    "handbags": _BAG, "backpacks": _BAG,
    "sneakers": _SHOE, "heels": _SHOE, "juttis": ("stitching", "materials", "lining"),
    "watches": ("logo", "hardware", "serial_date_code", "materials", "packaging"),
}


def checklist_for(category: str) -> tuple[str, ...]:
    return CHECKLISTS.get(category, CHECK_POINTS)


class AuthenticationRequest(LeaseColumns, Base):
    __tablename__ = "authentication_requests"
    __table_args__ = (
        # One active review per listing, even when two announcements race.
        Index("uq_authentication_requests_active_listing", "listing_id", unique=True,
              sqlite_where=text(_ACTIVE_SQL), postgresql_where=text(_ACTIVE_SQL)),
        Index("ix_authentication_requests_queue", "state", "priority", "sla_due_at"),
        Index("ix_authentication_requests_claimed_by", "claimed_by", "state"),
        # "Claim next" walks this in order and stops at the first row it may take (see
        # authentication.claims.CLAIM_ORDER); without it every claim sorts the whole queue.
        Index("ix_authentication_requests_claim_order", text("priority DESC"),
              "sla_due_at", text("price_paise DESC"), text("risk_score DESC NULLS LAST"),
              "id", postgresql_where=text(_WAITING_SQL)).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    price_paise: Mapped[int] = mapped_column(BigInteger)
    brand: Mapped[str] = mapped_column(String(60))
    brand_key: Mapped[str] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(24), default=RequestState.QUEUED)
    # Routing and ordering: priority desc (requeued after photos, SLA breached), then
    # the SLA deadline, the price and the vision risk score (None until vision scores it).
    priority: Mapped[int] = mapped_column(Integer, default=0)
    risk_score: Mapped[float | None] = mapped_column(Float)
    risk_reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    senior_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # The SLA clock counts active time only.
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_used_seconds: Mapped[int] = mapped_column(Integer, default=0)
    sla_running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The claim: claimed_by, claimed_from, claimed_at, lease_token, lease_expires_at
    # come from LeaseColumns (foundation.leases).
    # Four eyes: who said what before the second review or the lead.
    first_reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    first_verdict: Mapped[str | None] = mapped_column(String(20))
    second_reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    second_verdict: Mapped[str | None] = mapped_column(String(20))
    # Needs more photos.
    requested_angles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    photos_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReviewDecision(Base):
    __tablename__ = "authentication_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("authentication_requests.id"),
                                            index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(20))
    reason_code: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    checklist: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    angles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    stage: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class RequestEvent(Base):
    __tablename__ = "authentication_request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("authentication_requests.id"),
                                            index=True)
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(40))  # "staff:7", "member:3" or "system"
    reason: Mapped[str] = mapped_column(String(60))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class RequestSkip(Base):
    """A reviewer passed on an item: it is not offered to them again until `until`."""
    __tablename__ = "authentication_skips"
    __table_args__ = (Index("ix_authentication_skips_staff", "staff_id", "until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("authentication_requests.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    until: Mapped[datetime] = mapped_column(UTCDateTime)


class Strike(Base):
    __tablename__ = "authentication_strikes"
    __table_args__ = (UniqueConstraint("request_id", name="uq_authentication_strikes_request"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("authentication_requests.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ReviewerSkill(Base):
    """What a reviewer knows: preferred brands and categories, and a price ceiling."""
    __tablename__ = "authentication_reviewer_skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), unique=True)
    brands: Mapped[list[str]] = mapped_column(JSONType, default=list)  # lower-cased
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    max_price_paise: Mapped[int | None] = mapped_column(BigInteger)


class KnownCounterfeitPhoto(Base):
    """Photos of items judged counterfeit, for the vision model's reference bank."""
    __tablename__ = "authentication_known_counterfeit_photos"
    __table_args__ = (UniqueConstraint("request_id", "media_key",
                                       name="uq_known_counterfeit_photo"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    media_key: Mapped[str] = mapped_column(String(64), index=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    request_id: Mapped[int] = mapped_column(ForeignKey("authentication_requests.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
