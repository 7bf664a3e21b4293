"""The demo's not-as-described cases, opened and answered through the real services.

Runs after the marketplace seed (`flask seed`): buyers of some delivered orders report a
problem with a photo of it (the listing's own covershot with damage drawn on it, so the
agents' workspace shows real pixels side by side), some sellers answer, some do not yet,
so the support queue has work in every state a demo needs.

`settle_past_cases` first gives the months behind their disputes: the buyers of the sales
the marketplace seed left delivered long ago report a problem within the window, the
seller answers, and a support agent decides a day later -- counterfeit items are refunded
(the seller loses), most others released to the seller (a lead approves large refunds).
The newest of them nobody decided: it waits in the queue past its SLA, flagged.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select

from disputes import claims, decisions, opening, responses, timers
from disputes.evidence import Upload
from disputes.models import CaseReason, CaseState, DisputeCase
from foundation import clock, db
from foundation.config import current as settings
from foundation.staff.models import StaffUser
from marketplace_core.listings.photos import open_stored
from marketplace_core.media._opencv import cv2
from marketplace_core.members.models import Member
from marketplace_core.orders.models import Order, OrderStatus
from marketplace_core.seed.models import DemoListingTruth

SHARE_REPORTED = 0.4
SHARE_ANSWERED = 0.5
DESCRIPTIONS = {
    CaseReason.UNDISCLOSED_DAMAGE: "There is a stain and a pulled thread that the listing "
                                   "did not mention.",
    CaseReason.WRONG_OR_MISSING_ITEM: "This is not the item in the photos: the colour and "
                                      "the print are different.",
    CaseReason.NOT_AS_DESCRIBED: "Listed as like new, but the fabric is faded and worn.",
    CaseReason.NOT_AUTHENTIC: "The logo and the stitching do not look genuine to me.",
}
SELLER_ANSWERS = ("It left my closet in the condition shown; please check the photos.",
                  "I am sorry about this; I am happy to take it back.")


SHARE_LOST_GENUINE = 0.3
PAST_REASONS = {True: (CaseReason.NOT_AUTHENTIC, "refund_without_return",
                       "counterfeit_confirmed"),
                False: (CaseReason.NOT_AS_DESCRIBED, "release_to_seller", "as_described")}


def settle_past_cases(seed: int, real_now: datetime) -> dict[str, int]:
    """Open and decide a case for every order delivered before the window that is still
    open today (the marketplace seed stops its disputed sales there)."""
    rng = random.Random(seed + 9)
    outcome = {"won_by_seller": 0, "lost_by_seller": 0}
    with db.unit_of_work() as s:
        agent_id = _active_staff_id(s, "support_agent")
        lead_id = _active_staff_id(s, "support_lead")
        window = timedelta(days=settings().DISPUTE_WINDOW_DAYS)
        past = list(s.scalars(select(Order.id).where(
            Order.status == OrderStatus.DELIVERED,
            Order.delivered_at < real_now - window).order_by(Order.delivered_at)))
    if agent_id is None:
        return outcome
    *settled, forgotten = past or [None]
    for order_id in settled:
        lost = _settle_one(rng, order_id, agent_id, lead_id,
                           won_before=outcome["won_by_seller"] > 0,
                           lost_before=outcome["lost_by_seller"] > 0)
        if lost is not None:
            outcome["lost_by_seller" if lost else "won_by_seller"] += 1
    if forgotten is not None:
        outcome["past_sla"] = _leave_undecided(rng, forgotten, real_now)
    clock.freeze(None)
    return outcome


def _leave_undecided(rng, order_id: int, real_now: datetime) -> int:
    """The newest past case, reported late in its window and answered by the seller, that
    no agent decided: the queue's SLA breach (flagged as the periodic sweep would have);
    returns how many cases the sweep flagged as breached."""
    window = timedelta(days=settings().DISPUTE_WINDOW_DAYS)
    clock.freeze(_delivered_at(order_id) + window - timedelta(hours=rng.uniform(3, 12)))
    _report_and_answer(rng, order_id, CaseReason.UNDISCLOSED_DAMAGE, answer_after=(1, 6),
                       choose_answer=lambda rng: SELLER_ANSWERS[0])
    clock.freeze(real_now)
    with db.unit_of_work() as s:
        return timers.flag_stale(s)["sla_breached"]


def _delivered_at(order_id: int) -> datetime:
    with db.unit_of_work() as s:
        return s.get(Order, order_id).delivered_at


def _report_and_answer(rng, order_id: int, reason: CaseReason, *,
                       answer_after: tuple[float, float], choose_answer) -> int:
    """The buyer reports the sale now, with a photo of the damage, and the seller answers
    some hours later; returns the case's id."""
    with db.unit_of_work() as s:
        order = s.get(Order, order_id)
        photo = _damage_photo(rng, order.items[0].listing.photos[0].media_key)
        case = opening.open_case(s, s.get(Member, order.buyer_id), order_id, reason=reason,
                                 description=DESCRIPTIONS[reason], photos=[photo])
        case_id, seller_id = case.id, case.seller_id
    clock.freeze(clock.now() + timedelta(hours=rng.uniform(*answer_after)))
    with db.unit_of_work() as s:
        responses.respond(s, s.get(Member, seller_id), case_id, body=choose_answer(rng),
                          photos=[])
    return case_id


def _active_staff_id(s, role: str) -> int | None:
    return s.scalar(select(StaffUser.id).where(StaffUser.role == role,
                                               StaffUser.is_active.is_(True))
                    .order_by(StaffUser.id).limit(1))


def _settle_one(rng, order_id: int, agent_id: int, lead_id: int | None,
                won_before: bool, lost_before: bool) -> bool | None:
    """The case of one past sale, from report to decision; True if the seller lost it
    (a genuine item's seller wins the first case and loses the next if none was lost
    yet, so even a small demo has both)."""
    with db.unit_of_work() as s:
        order = s.get(Order, order_id)
        listing_id = order.items[0].listing_id
        counterfeit = bool(getattr(s.get(DemoListingTruth, listing_id), "counterfeit", False))
        unlucky = rng.random() < SHARE_LOST_GENUINE
        lost = counterfeit or (won_before and (unlucky or not lost_before))
        reason, outcome, code = PAST_REASONS[counterfeit]
        if lost and not counterfeit:
            reason, outcome, code = (CaseReason.UNDISCLOSED_DAMAGE, "refund_without_return",
                                     "return_uneconomic")
        clock.freeze(order.delivered_at + timedelta(hours=rng.uniform(4, 40)))
    case_id = _report_and_answer(rng, order_id, reason, answer_after=(2, 20),
                                 choose_answer=lambda rng: rng.choice(SELLER_ANSWERS))
    clock.freeze(clock.now() + timedelta(hours=rng.uniform(2, 20)))
    with db.unit_of_work() as s:
        agent = s.get(StaffUser, agent_id)
        case = claims.claim_next(s, agent, "review")
        if case is None or case.id != case_id:
            return None
        result = decisions.decide(s, agent, case_id, decisions.parse_decision(
            {"outcome": outcome, "reason": code, "note": "Demo history.",
             "idempotency_key": f"demo-past-{case_id}"}), case.lease_token)
        waiting = result.case.state == CaseState.AWAITING_APPROVAL
    if waiting:
        return _approve(case_id, lead_id, lost)
    return lost


def _approve(case_id: int, lead_id: int | None, lost: bool) -> bool | None:
    """A large refund waits for a lead; the demo's lead approves it an hour later."""
    if lead_id is None:
        return None
    clock.freeze(clock.now() + timedelta(hours=1))
    with db.unit_of_work() as s:
        lead = s.get(StaffUser, lead_id)
        case = claims.claim_next(s, lead, "approval")
        if case is None or case.id != case_id:
            return None
        decisions.review_approval(s, lead, case_id, approve=True, note="Approved.",
                                  lease_token=case.lease_token)
    return lost


def open_demo_cases(seed: int, real_now: datetime) -> dict[str, int]:
    rng = random.Random(seed + 5)
    outcome = {"opened": 0, "answered": 0}
    with db.unit_of_work() as s:
        delivered = list(s.scalars(select(Order.id).where(
            Order.status == OrderStatus.DELIVERED).order_by(Order.id)))
    for order_id in delivered:
        # Even a tiny demo gets one case, so the support queue is never empty.
        if outcome["opened"] and rng.random() >= SHARE_REPORTED:
            continue
        case_id = _report(rng, order_id, real_now)
        if case_id is None:
            continue
        outcome["opened"] += 1
        if rng.random() < SHARE_ANSWERED:
            _answer(rng, case_id, real_now)
            outcome["answered"] += 1
    clock.freeze(None)
    return outcome


def _report(rng: random.Random, order_id: int, real_now: datetime) -> int | None:
    with db.unit_of_work() as s:
        order = s.get(Order, order_id)
        window_left = opening.window_closes_at(order) - real_now
        if window_left <= timedelta(hours=1):
            return None
        clock.freeze(real_now - rng.uniform(0.0, 0.5) * (real_now - order.delivered_at))
        reason = rng.choice(list(CaseReason))
        photo = _damage_photo(rng, order.items[0].listing.photos[0].media_key)
        case = opening.open_case(s, s.get(Member, order.buyer_id), order_id, reason=reason,
                                 description=DESCRIPTIONS[reason], photos=[photo])
        return case.id


def _answer(rng: random.Random, case_id: int, real_now: datetime) -> None:
    clock.freeze(min(clock.now() + timedelta(hours=rng.randint(1, 12)), real_now))
    with db.unit_of_work() as s:
        case = s.get(DisputeCase, case_id)
        responses.respond(s, s.get(Member, case.seller_id), case_id,
                          body=rng.choice(SELLER_ANSWERS), photos=[])


def _damage_photo(rng: random.Random, media_key: str) -> Upload:
    """The covershot as the buyer would photograph it: a stain and a scratch drawn on."""
    image = cv2.imread(str(open_stored(media_key)), cv2.IMREAD_COLOR)
    height, width = image.shape[:2]
    centre = (int(width * rng.uniform(0.3, 0.7)), int(height * rng.uniform(0.3, 0.7)))
    overlay = image.copy()
    cv2.ellipse(overlay, centre, (width // 10, height // 14), rng.uniform(0, 180), 0, 360,
                (40, 70, 110), -1)
    image = cv2.addWeighted(overlay, 0.45, image, 0.55, 0)
    start = np.array(centre) + (width // 8, -height // 10)
    cv2.line(image, tuple(int(v) for v in start),
             (int(start[0] + width // 6), int(start[1] + height // 5)), (235, 235, 235), 3)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])
    if not ok:
        raise RuntimeError("could not encode the demo case photo")
    return Upload(buffer.tobytes(), "image/jpeg", "problem.jpg")
