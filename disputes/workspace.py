"""What support staff read: one case with everything needed to decide it, and the queues.

`workspace` gathers the case beside the listing as it was sold, the buyer's report and the
seller's reply (words and photos, staff notes included), the order's money, both
shipments, one timeline of everything that happened (order, case, parcels, ledger), the
decisions, and the history of both parties: serial claimers and sellers who often lose
cases stand out.  `queue_overview` is the queue page: counts per state, what the staff
member may claim from each queue they work, what they hold and what they decided lately.

Nothing here writes; the console and the staff API render what these return.

The buyer's photos compared with the listing's as sold come from vision.case_photos (vision
sits above disputes), which the console reads beside this workspace.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disputes import claims, decisions, evidence, machine
from disputes.models import (
    CLOSED_STATES,
    CaseDecision,
    CaseEvent,
    CaseMessage,
    CasePhoto,
    CaseState,
    DisputeCase,
    Party,
)
from foundation import clock, short_cache
from foundation.errors import NotFound, PermissionDenied
from foundation.staff.models import StaffUser
from foundation.staff.permissions import Permission
from marketplace_core.ledger import services as ledger
from marketplace_core.ledger.models import Entry, LedgerTransaction
from marketplace_core.listings.photos import open_stored
from marketplace_core.members.models import Member
from marketplace_core.orders.models import Order, OrderEvent, OrderStatus
from marketplace_core.shipping import services as shipping
from marketplace_core.shipping.models import Shipment, TrackingEvent

C = DisputeCase
HISTORY_LIMIT = 10
RECENT_DECISIONS_LIMIT = 20
# A closed case the buyer won (money came back) is one the seller lost.
BUYER_WON_STATES = (CaseState.CLOSED_REFUNDED, CaseState.CLOSED_SPLIT)
OPEN_STATES = tuple(state for state in CaseState if state not in CLOSED_STATES)


@dataclass(frozen=True)
class SoldItem:
    """One item as the buyer was shown it when they bought it (the case's snapshot)."""
    index: int
    listing_id: int
    title: str
    description: str
    brand: str
    category: str
    size: str
    condition: str
    colour: str
    price_paise: int
    photo_keys: tuple[str, ...]


@dataclass(frozen=True)
class Evidence:
    """A message and the photos that came with it."""
    message: CaseMessage
    photos: tuple[CasePhoto, ...]


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    source: str          # order | case | shipment | return | ledger
    title: str
    detail: str = ""
    amount_paise: int | None = None


@dataclass(frozen=True)
class BuyerHistory:
    member: Member
    orders_bought: int
    other_cases: int
    cases_won: int
    recent: tuple[DisputeCase, ...]

    @property
    def cases_per_order(self) -> float | None:
        """Cases opened (this one included) per order bought."""
        return _rate(self.other_cases + 1, self.orders_bought)


@dataclass(frozen=True)
class SellerHistory:
    member: Member
    orders_sold: int
    other_cases: int
    cases_lost: int
    recent: tuple[DisputeCase, ...]

    @property
    def lost_per_order(self) -> float | None:
        """Cases lost per order sold: the seller's not-as-described rate."""
        return _rate(self.cases_lost, self.orders_sold)


@dataclass(frozen=True)
class CaseWorkspace:
    case: DisputeCase
    buyer: Member
    seller: Member
    items: tuple[SoldItem, ...]
    buyer_evidence: tuple[Evidence, ...]
    seller_evidence: tuple[Evidence, ...]
    staff_messages: tuple[Evidence, ...]
    order: Order
    money: dict[str, int]
    shipment: Shipment | None
    return_shipment: Shipment | None
    timeline: tuple[TimelineEntry, ...]
    decisions: tuple[CaseDecision, ...]
    pending_decision: CaseDecision | None
    buyer_history: BuyerHistory
    seller_history: SellerHistory
    sla_seconds_left: int | None
    holds_lease: bool
    staff_names: dict[int, str] = field(default_factory=dict)

    @property
    def held_paise(self) -> int:
        return self.money["held_paise"]

    def photo(self, photo_id: int) -> CasePhoto | None:
        for group in (self.buyer_evidence, self.seller_evidence, self.staff_messages):
            for item in group:
                for photo in item.photos:
                    if photo.id == photo_id:
                        return photo
        return None


@dataclass(frozen=True)
class CaseSummary:
    """A queue row: the case, what was sold, and the decision time left."""
    case: DisputeCase
    title: str
    sla_seconds_left: int | None


@dataclass(frozen=True)
class QueueOverview:
    counts: dict[str, int]
    queues: dict[str, tuple[CaseSummary, ...]]
    held: tuple[CaseSummary, ...]
    recently_decided: tuple[CaseSummary, ...]


# --- the workspace --------------------------------------------------------------------------

def workspace(s: Session, case_id: Any, staff: StaffUser) -> CaseWorkspace:
    """Everything an agent or lead needs to decide `case_id` (staff notes included)."""
    require_reader(staff)
    case = decisions.get_case(s, case_id)
    order = s.get(Order, case.order_id)
    now = clock.now()
    shipment = shipping.shipment_for_order(s, order.id)
    return_shipment = shipping.return_shipment_for_order(s, order.id)
    by_author = _evidence_by_author(s, case.id)
    case_decisions = tuple(decisions.decisions_of(s, case.id))
    return CaseWorkspace(
        case=case, buyer=s.get(Member, case.buyer_id), seller=s.get(Member, case.seller_id),
        items=sold_items(case), buyer_evidence=by_author[Party.BUYER],
        seller_evidence=by_author[Party.SELLER], staff_messages=by_author["staff"],
        order=order, money=ledger.order_money(s, order.id), shipment=shipment,
        return_shipment=return_shipment,
        timeline=timeline(s, case, shipment, return_shipment),
        decisions=case_decisions, pending_decision=decisions.pending_decision(s, case.id),
        buyer_history=buyer_history(s, case), seller_history=seller_history(s, case),
        sla_seconds_left=machine.seconds_left(case, now),
        holds_lease=claims.LEASES.holds(case, staff),
        staff_names=staff_names(s, _staff_ids(case, case_decisions, by_author)))


def events_of(s: Session, case_id: int) -> list[CaseEvent]:
    return list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                          .order_by(CaseEvent.id)))


def require_reader(staff: StaffUser) -> None:
    if not staff.can(Permission.DISPUTES_HANDLE):
        raise PermissionDenied("Your role does not handle disputes.", code="wrong_role")


def sold_items(case: DisputeCase) -> tuple[SoldItem, ...]:
    items = (case.listing_snapshot or {}).get("items", [])
    return tuple(SoldItem(
        index=i, listing_id=item.get("listing_id"), title=item.get("title", ""),
        description=item.get("description", ""), brand=item.get("brand", ""),
        category=item.get("category", ""), size=item.get("size") or "",
        condition=item.get("condition", ""), colour=item.get("colour") or "",
        price_paise=item.get("price_paise", 0),
        photo_keys=tuple(item.get("photos", ()))) for i, item in enumerate(items))


def snapshot_photo_key(case: DisputeCase, item: int, position: int) -> str:
    """The media key of the `position`-th photo of the `item`-th item as sold; 404 if none
    (only keys the snapshot names can be served, never an arbitrary one)."""
    items = sold_items(case)
    if not (0 <= item < len(items) and 0 <= position < len(items[item].photo_keys)):
        raise NotFound("No such photo.", code="photo_not_found")
    return items[item].photo_keys[position]


def case_photo(s: Session, case_id: int, photo_id: int) -> CasePhoto:
    photo = s.get(CasePhoto, photo_id)
    if photo is None or photo.case_id != case_id:
        raise NotFound("No such photo.", code="photo_not_found")
    return photo


def stored_photo(key: str) -> Path:
    """The stored JPEG of a media key, or 404 when the store no longer holds it."""
    path = open_stored(key)
    if not path.is_file():
        raise NotFound("The photo is no longer stored.", code="photo_missing")
    return path


def _evidence_by_author(s: Session, case_id: int) -> dict[str, tuple[Evidence, ...]]:
    photos: dict[int, list[CasePhoto]] = defaultdict(list)
    for photo in evidence.photos_of(s, case_id):
        photos[photo.message_id].append(photo)
    grouped: dict[str, list[Evidence]] = {Party.BUYER: [], Party.SELLER: [], "staff": []}
    for message in evidence.messages_of(s, case_id, include_staff_notes=True):
        grouped.setdefault(message.author, []).append(
            Evidence(message, tuple(photos.get(message.id, ()))))
    return {author: tuple(items) for author, items in grouped.items()}


def _staff_ids(case: DisputeCase, case_decisions: tuple[CaseDecision, ...],
               by_author: dict[str, tuple[Evidence, ...]]) -> set[int]:
    ids = {d.staff_id for d in case_decisions} | {d.approver_id for d in case_decisions}
    ids |= {e.message.author_staff_id for e in by_author["staff"]}
    ids |= {case.claimed_by, case.decided_by}
    return {i for i in ids if i is not None}


def staff_names(s: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(s.execute(select(StaffUser.id, StaffUser.display_name)
                          .where(StaffUser.id.in_(sorted(ids)))).all())


# --- one timeline ---------------------------------------------------------------------------

def timeline(s: Session, case: DisputeCase, shipment: Shipment | None,
             return_shipment: Shipment | None) -> tuple[TimelineEntry, ...]:
    """Order steps, case transitions, parcel scans both ways and ledger postings, oldest
    first (ties keep that order: the order moved, then the case, then the money)."""
    entries = [*_order_entries(s, case.order_id), *_case_entries(s, case.id),
               *_tracking_entries(s, shipment, "shipment"),
               *_tracking_entries(s, return_shipment, "return"),
               *_ledger_entries(s, case.order_id)]
    return tuple(sorted(entries, key=lambda entry: entry.at))


def _order_entries(s: Session, order_id: int) -> list[TimelineEntry]:
    rows = s.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)
                     .order_by(OrderEvent.id))
    return [TimelineEntry(row.occurred_at, "order", _words(row.kind),
                          _arrow(row.from_status, row.to_status, row.actor, row.note))
            for row in rows]


def _case_entries(s: Session, case_id: int) -> list[TimelineEntry]:
    return [TimelineEntry(row.occurred_at, "case", _words(row.reason),
                          _arrow(row.from_state, row.to_state, row.actor))
            for row in events_of(s, case_id)]


def _tracking_entries(s: Session, shipment: Shipment | None,
                      source: str) -> list[TimelineEntry]:
    if shipment is None:
        return []
    rows = s.scalars(select(TrackingEvent).where(TrackingEvent.shipment_id == shipment.id)
                     .order_by(TrackingEvent.occurred_at, TrackingEvent.id))
    return [TimelineEntry(row.occurred_at, source, _words(row.kind),
                          " · ".join(part for part in (
                              shipment.tracking_number, _words(row.to_status), row.location,
                              row.description, "" if row.applied else "late scan, ignored")
                              if part))
            for row in rows]


def _ledger_entries(s: Session, order_id: int) -> list[TimelineEntry]:
    moved = func.sum(when((Entry.amount_paise > 0, Entry.amount_paise), else_=0))
    rows = s.execute(select(LedgerTransaction.id, LedgerTransaction.kind,
                            LedgerTransaction.memo, LedgerTransaction.created_at, moved)
                     .join(Entry, Entry.transaction_id == LedgerTransaction.id)
                     .where(LedgerTransaction.order_id == order_id)
                     .group_by(LedgerTransaction.id, LedgerTransaction.kind,
                               LedgerTransaction.memo, LedgerTransaction.created_at)
                     .order_by(LedgerTransaction.id)).all()
    return [TimelineEntry(created_at, "ledger", f"ledger {_words(kind)}",
                          f"transaction #{tx_id}" + (f" · {memo}" if memo else ""),
                          amount_paise=int(amount or 0))
            for tx_id, kind, memo, created_at, amount in rows]


def _words(code: str) -> str:
    return code.replace("_", " ")


def _arrow(before: str | None, after: str, actor: str, note: str | None = None) -> str:
    move = f"{_words(before)} → {_words(after)}" if before and before != after else _words(after)
    return " · ".join(part for part in (move, actor, note) if part)


# --- both parties' history ------------------------------------------------------------------

def buyer_history(s: Session, case: DisputeCase) -> BuyerHistory:
    """The buyer's other cases (a serial claimer opens many and wins many)."""
    others, won = _case_counts(s, C.buyer_id == case.buyer_id, C.id != case.id)
    bought = s.scalar(select(func.count()).select_from(Order).where(
        Order.buyer_id == case.buyer_id, Order.status != OrderStatus.CANCELLED)) or 0
    return BuyerHistory(member=s.get(Member, case.buyer_id), orders_bought=int(bought),
                        other_cases=others, cases_won=won,
                        recent=_recent(s, C.buyer_id == case.buyer_id, C.id != case.id))


def seller_history(s: Session, case: DisputeCase) -> SellerHistory:
    """The seller's other cases and how many they lost, against the orders they sold."""
    others, lost = _case_counts(s, C.seller_id == case.seller_id, C.id != case.id)
    sold = s.scalar(select(func.count()).select_from(Order).where(
        Order.seller_id == case.seller_id, Order.status != OrderStatus.CANCELLED)) or 0
    return SellerHistory(member=s.get(Member, case.seller_id), orders_sold=int(sold),
                         other_cases=others, cases_lost=lost,
                         recent=_recent(s, C.seller_id == case.seller_id, C.id != case.id))


def _case_counts(s: Session, *where) -> tuple[int, int]:
    total, won = s.execute(select(func.count(), func.sum(
        when((C.state.in_(BUYER_WON_STATES), 1), else_=0))).where(*where)).one()
    return int(total or 0), int(won or 0)


def _recent(s: Session, *where) -> tuple[DisputeCase, ...]:
    return tuple(s.scalars(select(C).where(*where).order_by(C.id.desc())
                           .limit(HISTORY_LIMIT)))


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --- the queue page -------------------------------------------------------------------------

def queue_overview(s: Session, staff: StaffUser) -> QueueOverview:
    """Counts of open cases per state, the cases each of the staff member's queues would
    hand them (in claim order), what they hold and what they decided lately."""
    require_reader(staff)
    now = clock.now()
    queues = {name: tuple(summarise(c, now) for c in claims.visible_cases(s, staff, name))
              for name in usable_queues(staff)}
    return QueueOverview(
        counts=short_cache.remembered("disputes.open_counts", lambda: open_counts(s)),
        queues=queues,
        held=tuple(summarise(c, now) for c in claims.held_by(s, staff)),
        recently_decided=tuple(summarise(c, now) for c in recently_decided(s, staff)))


def usable_queues(staff: StaffUser) -> list[str]:
    return [name for name, permission in claims.QUEUE_PERMISSION.items()
            if staff.can(permission)]


def open_counts(s: Session) -> dict[str, int]:
    counts = dict(s.execute(select(C.state, func.count()).where(C.state.in_(OPEN_STATES))
                            .group_by(C.state)).all())
    return {str(state): int(counts.get(state, 0)) for state in OPEN_STATES}


def recently_decided(s: Session, staff: StaffUser) -> list[DisputeCase]:
    latest = (select(CaseDecision.case_id, func.max(CaseDecision.id).label("last"))
              .where(CaseDecision.staff_id == staff.id).group_by(CaseDecision.case_id)
              .subquery())
    return list(s.scalars(select(C).join(latest, latest.c.case_id == C.id)
                          .order_by(latest.c.last.desc()).limit(RECENT_DECISIONS_LIMIT)))


def summarise(case: DisputeCase, now: datetime) -> CaseSummary:
    items = sold_items(case)
    title = items[0].title if items else f"order #{case.order_id}"
    if len(items) > 1:
        title += f" and {len(items) - 1} more"
    return CaseSummary(case=case, title=title, sla_seconds_left=machine.seconds_left(case, now))
