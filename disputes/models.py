""""Item not as described" cases: the case, its messages and evidence, its decisions.

    awaiting_seller --seller answers / window ends--> under_review (the agents' queue)
    awaiting_seller --seller accepts the return--> awaiting_return
    under_review --claim--> claimed (claimed_from remembers the queue) --release--> back
    claimed --decision--> awaiting_info | with_authentication | awaiting_approval
                        | awaiting_return | closed_*
    awaiting_info --the party answers / deadline--> under_review (front of the queue)
    with_authentication --the authenticators' verdict--> under_review (front)
    awaiting_approval --a support lead approves--> awaiting_return | closed_*
                      --the lead refuses--> under_review
    awaiting_return --first scan--> return_in_transit --delivered--> awaiting_inspection
    awaiting_return --buyer never ships--> closed_released
    awaiting_inspection --seller accepts / deadline--> closed_refunded
                        --seller counter-claims--> under_review
    any open state --buyer withdraws (before the return ships)--> closed_withdrawn

Money moves only when a case closes, and only through the order's case hooks (which
post ledger transactions under per-order idempotency keys): a full refund, a split,
or a release to the seller.  Every transition writes a CaseEvent.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
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


class CaseReason(enum.StrEnum):
    UNDISCLOSED_DAMAGE = "undisclosed_damage"
    WRONG_OR_MISSING_ITEM = "wrong_or_missing_item"
    NOT_AS_DESCRIBED = "not_as_described"
    NOT_AUTHENTIC = "not_authentic"


# What Posh Protect does not cover, and what the buyer is told instead.
NOT_COVERED: dict[str, str] = {
    "does_not_fit": "Fit is not covered: sizes vary by brand, so check the measurements "
                    "in the listing. You can re-list the item in your closet.",
    "changed_mind": "A change of mind is not covered. You can re-list the item in your "
                    "closet.",
    "trade": "Trades are not covered: only purchases made on the marketplace are.",
    "off_platform": "Deals made off the marketplace are not covered.",
}


class CaseState(enum.StrEnum):
    AWAITING_SELLER = "awaiting_seller"
    UNDER_REVIEW = "under_review"                # the agents' queue
    CLAIMED = "claimed"                          # held by one agent under a lease
    AWAITING_INFO = "awaiting_info"              # a party was asked; the SLA clock pauses
    WITH_AUTHENTICATION = "with_authentication"  # "not authentic": the authenticators decide
    AWAITING_APPROVAL = "awaiting_approval"      # a large refund: a support lead approves
    AWAITING_RETURN = "awaiting_return"          # the buyer has a prepaid label
    RETURN_IN_TRANSIT = "return_in_transit"
    AWAITING_INSPECTION = "awaiting_inspection"  # the seller has the item back
    CLOSED_REFUNDED = "closed_refunded"
    CLOSED_SPLIT = "closed_split"
    CLOSED_RELEASED = "closed_released"          # in the seller's favour
    CLOSED_WITHDRAWN = "closed_withdrawn"


CLOSED_STATES = (CaseState.CLOSED_REFUNDED, CaseState.CLOSED_SPLIT, CaseState.CLOSED_RELEASED,
                 CaseState.CLOSED_WITHDRAWN)
QUEUE_STATES = (CaseState.UNDER_REVIEW, CaseState.AWAITING_APPROVAL)
STAFF_QUEUE_SQL = "state IN ('under_review', 'awaiting_approval')"
# The agents' decision clock runs while the case waits for, or is with, staff.
CLOCK_RUNNING_STATES = (CaseState.UNDER_REVIEW, CaseState.CLAIMED, CaseState.AWAITING_APPROVAL)
# Once the return is on its way the buyer can no longer withdraw: the item is moving.
WITHDRAWABLE_STATES = (CaseState.AWAITING_SELLER, CaseState.UNDER_REVIEW, CaseState.CLAIMED,
                       CaseState.AWAITING_INFO, CaseState.WITH_AUTHENTICATION,
                       CaseState.AWAITING_APPROVAL, CaseState.AWAITING_RETURN)


class Outcome(enum.StrEnum):
    REFUND_WITH_RETURN = "refund_with_return"
    REFUND_WITHOUT_RETURN = "refund_without_return"
    SPLIT = "split"
    RELEASE_TO_SELLER = "release_to_seller"
    REQUEST_INFO = "request_info"
    SEND_TO_AUTHENTICATION = "send_to_authentication"


REFUNDING_OUTCOMES = (Outcome.REFUND_WITH_RETURN, Outcome.REFUND_WITHOUT_RETURN, Outcome.SPLIT)

# The reason codes an agent may give with each outcome (the metrics group by them).
DECISION_REASONS: dict[Outcome, tuple[str, ...]] = {
    Outcome.REFUND_WITH_RETURN: ("damage_confirmed", "wrong_item", "not_as_described",
                                 "counterfeit_confirmed", "seller_agreed"),
    Outcome.REFUND_WITHOUT_RETURN: ("missing_item", "counterfeit_confirmed",
                                    "return_uneconomic", "seller_unresponsive"),
    Outcome.SPLIT: ("minor_damage", "minor_difference", "goodwill"),
    Outcome.RELEASE_TO_SELLER: ("as_described", "insufficient_evidence",
                                "authentic_confirmed", "damage_disclosed", "not_covered"),
    Outcome.REQUEST_INFO: ("need_buyer_photos", "need_buyer_details", "need_seller_photos",
                           "need_seller_details"),
    Outcome.SEND_TO_AUTHENTICATION: ("authenticity_claim",),
}


class Party(enum.StrEnum):
    BUYER = "buyer"
    SELLER = "seller"


class MessageKind(enum.StrEnum):
    OPENING = "opening"                # the buyer's report
    RESPONSE = "response"              # either party, any time the case is open
    INFO_REQUEST = "info_request"      # staff to a party
    INSPECTION = "inspection"          # the seller's inspection of the returned item
    COUNTER_CLAIM = "counter_claim"    # the seller: the returned item was swapped or damaged
    DECISION = "decision"              # staff, shown to both parties
    STAFF_NOTE = "staff_note"          # staff only


class DecisionStatus(enum.StrEnum):
    APPLIED = "applied"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REFUSED = "refused"
    VOIDED = "voided"            # the buyer withdrew before a lead looked at it


class DisputeCase(LeaseColumns, Base):
    """One buyer's report on one order; the claim columns come from foundation.leases."""

    __tablename__ = "dispute_cases"
    __table_args__ = (
        # One case per order, ever, even when two reports race: closing a case moves
        # the held funds, so there is nothing left for a second case to hold.
        UniqueConstraint("order_id", name="uq_dispute_cases_order"),
        Index("ix_dispute_cases_queue", "state", "priority", "sla_due_at"),
        # Exactly the queues' order (disputes.claims.QUEUE_ORDER) over the cases waiting
        # for staff, so that a claim or the queue page walks it and stops early.
        Index("ix_dispute_cases_queue_order", text("priority DESC"), "sla_due_at",
              text("amount_paise DESC"), "id", postgresql_where=text(STAFF_QUEUE_SQL)
              ).ddl_if(dialect="postgresql"),
        Index("ix_dispute_cases_claimed_by", "claimed_by", "state"),
        Index("ix_dispute_cases_buyer", "buyer_id", "id"),
        Index("ix_dispute_cases_seller", "seller_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(24), default=CaseState.AWAITING_SELLER)
    # What the buyer paid and is still held for the order (the most a refund can be).
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    # The listing as it was sold: title, description, brand, size, condition, photos.
    listing_snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Ordering of the queue: priority desc (answers, verdicts, stale, breached), then the
    # SLA deadline, then the amount.
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # The decision clock (active time only), as in the authentication queue.
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_used_seconds: Mapped[int] = mapped_column(Integer, default=0)
    sla_running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Deadlines of the waiting states; each has a timer and the sweep as a backstop.
    seller_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    info_requested_from: Mapped[str | None] = mapped_column(String(8))
    info_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_ship_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    inspection_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The decision in force (the outcome that closed or is closing the case).
    outcome: Mapped[str | None] = mapped_column(String(24))
    refund_paise: Mapped[int | None] = mapped_column(BigInteger)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # "Not authentic" claims.
    authentication_request_id: Mapped[int | None] = mapped_column(Integer)
    authentication_verdict: Mapped[str | None] = mapped_column(String(20))
    counter_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stale_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stale_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def ref(self) -> str:
        """The case's name on the order's hold and in the ledger's memos."""
        return f"case-{self.id}"

    @property
    def is_closed(self) -> bool:
        return self.state in CLOSED_STATES


class CaseMessage(Base):
    """What the parties and staff said, in order; photos hang off their message."""
    __tablename__ = "dispute_messages"
    __table_args__ = (Index("ix_dispute_messages_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_cases.id"))
    kind: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(8))           # buyer | seller | staff
    author_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    author_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class CasePhoto(Base):
    __tablename__ = "dispute_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_cases.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("dispute_messages.id"))
    party: Mapped[str] = mapped_column(String(8))
    media_key: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class CaseDecision(Base):
    """An agent's decision, under the idempotency key it was sent with: the same key
    returns this decision again; the same key with other parameters is refused."""
    __tablename__ = "dispute_decisions"
    __table_args__ = (UniqueConstraint("case_id", "idempotency_key",
                                       name="uq_dispute_decisions_case_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_cases.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(24))
    refund_paise: Mapped[int | None] = mapped_column(BigInteger)
    reason_code: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    info_from: Mapped[str | None] = mapped_column(String(8))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class CaseEvent(Base):
    __tablename__ = "dispute_case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_cases.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(40))  # "staff:7", "member:3" or "system"
    reason: Mapped[str] = mapped_column(String(60))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
